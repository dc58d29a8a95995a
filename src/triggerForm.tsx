/**
 * The "Automation" section of the Run as job dialog: run the notebook on each
 * new commit of a branch (`POST triggers`), from exactly that commit, instead
 * of once now. The server refuses a branch that does not exist; the other
 * triggers (new data, drift, a production metric) are made with
 * `jupyter mlops trigger add` and listed with these in the Schedules panel.
 */
import { TranslationBundle } from '@jupyterlab/translation';
import * as React from 'react';

import type { ISubmitRequest, ITriggerRequest } from './api';
import { ErrorBanner } from './components';
import {
  CheckboxField,
  SelectField,
  TextField,
  textBinder
} from './formFields';

export type CommitPolicy = 'newest' | 'each';

/** What the section holds. */
export interface ITriggerFormState {
  /** "Run on each new commit" is ticked. */
  enabled: boolean;
  branch: string;
  /** Space- or comma-separated paths; only commits touching them fire. */
  paths: string;
  policy: CommitPolicy;
  name: string;
}

/** Keys of the section's fields in an error map. */
export const TRIGGER_FIELDS = {
  branch: '@trigger-branch',
  name: '@trigger-name'
} as const;

export function initialTriggerState(): ITriggerFormState {
  return {
    enabled: false,
    branch: 'main',
    paths: '',
    policy: 'newest',
    name: ''
  };
}

/** The paths typed, one per word (commas count as spaces). */
export function parsePaths(text: string): string[] {
  return text
    .split(/[\s,]+/)
    .map(p => p.trim())
    .filter(p => p.length > 0);
}

/** Problems of the section's fields (empty when it is off or valid). */
export function checkTriggerForm(
  state: ITriggerFormState,
  trans: TranslationBundle,
  scheduling: boolean
): Record<string, string> {
  const errors: Record<string, string> = {};
  if (!state.enabled) {
    return errors;
  }
  if (!state.branch.trim()) {
    errors[TRIGGER_FIELDS.branch] = trans.__(
      'Enter the branch whose commits run the notebook, e.g. main.'
    );
  } else if (scheduling) {
    errors[TRIGGER_FIELDS.branch] = trans.__(
      'Choose a schedule or a commit trigger, not both: untick one of them.'
    );
  }
  if (state.name.trim().length > 255) {
    errors[TRIGGER_FIELDS.name] = trans.__(
      'A name is at most 255 characters long.'
    );
  }
  return errors;
}

/**
 * The trigger to create for a valid run request: same notebook, parameters,
 * kernel, GPUs, timeout and tags; each run is from its commit (a seed and
 * "commit the notebook" belong to one run).
 */
export function triggerRequest(
  run: ISubmitRequest,
  state: ITriggerFormState
): ITriggerRequest {
  return commitTriggerRequest(state, {
    notebook: run.notebook,
    parameters: run.parameters ?? {},
    kernel: run.kernel ?? null,
    gpus: run.gpus ?? 0,
    timeout: run.timeout ?? null,
    tags: run.tags ?? []
  });
}

/**
 * An on-commit trigger of ``target`` (a notebook's run settings, or a
 * pipeline file) with the section's branch, paths, policy and name.
 */
export function commitTriggerRequest(
  state: ITriggerFormState,
  target: Partial<ITriggerRequest>
): ITriggerRequest {
  const request: ITriggerRequest = {
    on_commit: state.branch.trim(),
    paths: parsePaths(state.paths),
    policy: state.policy,
    column_psi: 0.2, // the schema's defaults (not used by a commit trigger)
    ks: 0.1,
    for_points: 1,
    active: true,
    parameters: {},
    gpus: 0,
    tags: [],
    ...target
  };
  if (state.name.trim()) {
    request.name = state.name.trim();
  }
  return request;
}

/** The section: a checkbox that reveals the trigger's fields. */
export function TriggerSection(props: {
  state: ITriggerFormState;
  errors: Record<string, string>;
  serverError: string | null;
  disabled: boolean;
  trans: TranslationBundle;
  onChange: (state: ITriggerFormState) => void;
}): JSX.Element {
  const { state, errors, trans } = props;
  const set = (patch: Partial<ITriggerFormState>) =>
    props.onChange({ ...state, ...patch });
  const bind = textBinder(state, set, errors, TRIGGER_FIELDS);
  return (
    <fieldset
      className="jp-mlops-fieldset jp-mlops-trigger-section"
      disabled={props.disabled}
    >
      <legend>{trans.__('Automation')}</legend>
      <CheckboxField
        id="jp-mlops-trigger-enabled"
        label={trans.__('Run on each new commit')}
        checked={state.enabled}
        onChange={enabled => set({ enabled })}
      />
      {!state.enabled && (
        <p className="jp-mlops-hint">
          {trans.__(
            'GitOps: every new commit on a branch runs this notebook from exactly that commit.'
          )}
        </p>
      )}
      {state.enabled && (
        <div className="jp-mlops-trigger-fields">
          <ErrorBanner
            error={props.serverError}
            className="jp-mlops-form-error"
          />
          <div className="jp-mlops-field-row">
            <TextField
              id="jp-mlops-trigger-branch"
              label={trans.__('Branch')}
              spellCheck={false}
              {...bind('branch')}
            />
            <TextField
              id="jp-mlops-trigger-paths"
              label={trans.__('Only when these paths change (optional)')}
              spellCheck={false}
              placeholder={trans.__('any file')}
              {...bind('paths')}
            />
          </div>
          <div className="jp-mlops-field-row">
            <SelectField<CommitPolicy>
              id="jp-mlops-trigger-policy"
              label={trans.__('Several commits at once')}
              value={state.policy}
              options={[
                { value: 'newest', label: trans.__('run the newest') },
                { value: 'each', label: trans.__('run each') }
              ]}
              onChange={policy => set({ policy })}
            />
            <TextField
              id="jp-mlops-trigger-name"
              label={trans.__('Name (optional)')}
              placeholder={trans.__('the notebook and branch')}
              {...bind('name')}
            />
          </div>
          <div className="jp-mlops-field-help">
            {trans.__(
              'Commits are seen within seconds; `jupyter mlops hooks install` in the repository makes it immediate.'
            )}
          </div>
        </div>
      )}
    </fieldset>
  );
}
