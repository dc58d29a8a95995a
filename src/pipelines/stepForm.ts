/**
 * The rules of the Run Pipeline form, as pure functions: each step's
 * parameters are its notebook's (as the Run as job form reads them), with
 * the pipeline file's values as their defaults; values that reference an
 * upstream output are shown, not edited; what the user changed is sent as
 * per-step overrides (`{step: {name: value}}`). The fields and their reading
 * are the Run as job form's (`runForm.ts`), not a second copy.
 */
import type { TranslationBundle } from '@jupyterlab/translation';

import type {
  INotebookParameters,
  IParameter,
  JSONObject,
  JSONValue
} from '../api';
import { checkParameters, IFieldState, initialField } from '../runForm';
import type { IPipelineFileStep, IPipelineRequest } from './api';

/** One step of the form: its editable parameters and its references. */
export interface IStepForm {
  name: string;
  notebook: string;
  /** The notebook's parameters, defaults from the pipeline file where given. */
  parameters: IParameter[];
  /** name → the file's value, for parameters that reference an upstream output. */
  references: Record<string, string>;
  /** Why the notebook's parameters could not be read (the step is still run). */
  error?: string;
}

/** The field key of a step's parameter (and of its error). */
export function fieldKey(step: string, name: string): string {
  return `${step}.${name}`;
}

/** How a file value reads as a default (`None` for null, JSON otherwise). */
function sourceOf(value: JSONValue): string {
  return value === null ? 'None' : JSON.stringify(value);
}

/** A step's form from the file's step and its notebook's parameters. */
export function stepForm(
  step: IPipelineFileStep,
  info: INotebookParameters | null,
  error?: string
): IStepForm {
  const values = step.parameters as JSONObject;
  const references: Record<string, string> = {};
  for (const name of step.references) {
    references[name] = String(values[name]);
  }
  const parameters = (info?.parameters ?? [])
    .filter(p => !(p.name in references))
    .map(p =>
      p.name in values
        ? {
            ...p,
            default: values[p.name],
            default_source: sourceOf(values[p.name])
          }
        : p
    );
  return {
    name: step.name,
    notebook: step.notebook,
    parameters,
    references,
    error
  };
}

/** Every field of the form as its default (`step.name` keys). */
export function initialStepFields(
  steps: IStepForm[]
): Record<string, IFieldState> {
  const fields: Record<string, IFieldState> = {};
  for (const step of steps) {
    for (const param of step.parameters) {
      fields[fieldKey(step.name, param.name)] = initialField(param);
    }
  }
  return fields;
}

/** The fields of one step, by parameter name. */
function fieldsOf(
  step: IStepForm,
  fields: Record<string, IFieldState>
): Record<string, IFieldState> {
  const own: Record<string, IFieldState> = {};
  for (const param of step.parameters) {
    const field = fields[fieldKey(step.name, param.name)];
    if (field) {
      own[param.name] = field;
    }
  }
  return own;
}

/** Result of checking the form. */
export interface IPipelineFormCheck {
  request: IPipelineRequest | null;
  errors: Record<string, string>;
}

/**
 * Check every step's fields into a `POST pipelines` body: only values that
 * differ from the step's defaults (the file's, else the notebook's) are sent;
 * steps without changes are left out.
 */
export function checkPipelineForm(
  pipeline: string,
  steps: IStepForm[],
  fields: Record<string, IFieldState>,
  noCache: boolean,
  trans: TranslationBundle
): IPipelineFormCheck {
  const errors: Record<string, string> = {};
  const parameters: Record<string, JSONObject> = {};
  for (const step of steps) {
    const changed = checkParameters(
      step.parameters,
      fieldsOf(step, fields),
      trans,
      errors,
      name => fieldKey(step.name, name)
    );
    if (Object.keys(changed).length) {
      parameters[step.name] = changed;
    }
  }
  if (Object.keys(errors).length) {
    return { request: null, errors };
  }
  return {
    request: { pipeline, parameters, no_cache: noCache },
    errors
  };
}
