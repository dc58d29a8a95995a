/**
 * The rules of the Run as job form, as pure functions: the text each
 * parameter's input starts with, reading it back as a value of the
 * parameter's type, checking the whole form into a `POST runs` body, and the
 * kernel to preselect. The dialog (`runAsJob.tsx`) renders and calls them;
 * the unit tests check them without a browser.
 */
import type { TranslationBundle } from '@jupyterlab/translation';

import type {
  IKernelCuda,
  IKernelInfo,
  IKernels,
  INotebookParameters,
  IParameter,
  ISubmitRequest,
  JSONObject,
  JSONValue
} from './api';

/** What the user typed for one parameter. */
export interface IFieldState {
  /** Text of the input (unused for bool). */
  text: string;
  /** Checkbox value of a bool parameter. */
  checked: boolean;
  /** `None` chosen for a nullable parameter. */
  isNone: boolean;
}

/** Result of reading one field. */
export interface IFieldValue {
  /** The typed value; absent when the notebook's own default is kept. */
  value?: JSONValue;
  /** Why the text is not a valid value of the parameter's type. */
  error?: string;
}

/** Everything the form holds. */
export interface IRunFormState {
  fields: Record<string, IFieldState>;
  kernel: string;
  gpus: string;
  timeout: string;
  tags: string;
  seed: string;
  commit: boolean;
  commitMessage: string;
}

/** Result of validating the whole form. */
export interface IFormCheck {
  request: ISubmitRequest | null;
  errors: Record<string, string>;
}

/** Keys of the non-parameter fields in an error map (`@`: no parameter name). */
export const RUN_FIELDS = {
  gpus: '@gpus',
  timeout: '@timeout',
  seed: '@seed',
  tags: '@tags',
  kernel: '@kernel'
} as const;

const INT_RE = /^[-+]?\d+$/;

/** Whether the text is a whole number (sign allowed). */
export function isIntegerText(text: string): boolean {
  return INT_RE.test(text.trim());
}

/** Whether the server could give the default as a literal value. */
export function hasLiteralDefault(param: IParameter): boolean {
  return param.default !== null || param.default_source.trim() === 'None';
}

/** The text an input starts with for a parameter's default. */
export function initialField(param: IParameter): IFieldState {
  const literal = hasLiteralDefault(param);
  const value = param.default;
  const state: IFieldState = {
    text: '',
    checked: value === true,
    isNone: param.nullable && literal && value === null
  };
  if (!literal || value === null) {
    return state;
  }
  switch (param.type_name) {
    case 'str':
      state.text = typeof value === 'string' ? value : JSON.stringify(value);
      break;
    case 'int':
    case 'float':
      state.text = String(value);
      break;
    case 'bool':
      break;
    default:
      state.text = JSON.stringify(value);
  }
  return state;
}

/** The initial state of the whole form. */
export function initialRunForm(
  info: INotebookParameters,
  kernel: string
): IRunFormState {
  const fields: Record<string, IFieldState> = {};
  for (const param of info.parameters) {
    fields[param.name] = initialField(param);
  }
  return {
    fields,
    kernel,
    gpus: '0',
    timeout: '',
    tags: '',
    seed: fields[SEED_PARAMETER]?.text ?? '',
    commit: false,
    commitMessage: ''
  };
}

/** The parameter that is the run's seed (as the server's `seed` rule). */
export const SEED_PARAMETER = 'seed';

/**
 * The Execution "Seed" field and a `seed` parameter are one value: whichever
 * changed from `before` to `after` is copied to the other (the Seed field
 * starts from the parameter's default, so a notebook's `seed = 0` runs with
 * 0, not with a random seed). Without a `seed` parameter, `after` as is.
 */
export function syncSeed(
  before: IRunFormState,
  after: IRunFormState
): IRunFormState {
  const param = after.fields[SEED_PARAMETER];
  if (!param) {
    return after;
  }
  if (after.seed !== before.seed) {
    return {
      ...after,
      fields: {
        ...after.fields,
        [SEED_PARAMETER]: { ...param, text: after.seed, isNone: false }
      }
    };
  }
  const old = before.fields[SEED_PARAMETER];
  if (!old || old.text !== param.text || old.isNone !== param.isNone) {
    return { ...after, seed: param.isNone ? '' : param.text };
  }
  return after;
}

function deepEqual(
  a: JSONValue | undefined,
  b: JSONValue | undefined
): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** A JSON value of a list, tuple, dict or untyped parameter. */
function readJSON(
  param: IParameter,
  text: string,
  trans: TranslationBundle
): IFieldValue {
  let value: JSONValue;
  try {
    value = JSON.parse(text) as JSONValue;
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    return { error: trans.__('Invalid JSON: %1', reason) };
  }
  if (
    (param.type_name === 'list' || param.type_name === 'tuple') &&
    !Array.isArray(value)
  ) {
    return { error: trans.__('Enter a JSON list, e.g. [1, 2, 3].') };
  }
  if (
    param.type_name === 'dict' &&
    (value === null || typeof value !== 'object' || Array.isArray(value))
  ) {
    return {
      error: trans.__('Enter a JSON object, e.g. {"key": "value"}.')
    };
  }
  return { value };
}

/** An int parameter's value. */
function readInt(text: string, trans: TranslationBundle): IFieldValue {
  if (!INT_RE.test(text)) {
    return { error: trans.__('Enter an integer, e.g. 3.') };
  }
  const value = Number(text);
  if (!Number.isSafeInteger(value)) {
    return { error: trans.__('This integer is too large.') };
  }
  return { value };
}

/** A float parameter's value. */
function readFloat(text: string, trans: TranslationBundle): IFieldValue {
  const value = Number(text);
  if (!isFinite(value)) {
    return { error: trans.__('Enter a number, e.g. 0.01 or 1e-3.') };
  }
  return { value };
}

/** What an empty input asks for, by type (JSON for the others). */
function emptyMessage(param: IParameter, trans: TranslationBundle): string {
  switch (param.type_name) {
    case 'int':
      return trans.__('Enter an integer.');
    case 'float':
      return trans.__('Enter a number.');
    default:
      return trans.__('Enter a JSON value.');
  }
}

/**
 * Read one field as a value of the parameter's type.
 */
export function readField(
  param: IParameter,
  field: IFieldState,
  trans: TranslationBundle
): IFieldValue {
  if (param.nullable && field.isNone) {
    return { value: null };
  }
  if (param.type_name === 'bool') {
    return { value: field.checked };
  }
  if (param.type_name === 'str') {
    return { value: field.text };
  }
  const text = field.text.trim();
  if (!text) {
    // Empty keeps a default the server could not read as a value.
    return hasLiteralDefault(param)
      ? { error: emptyMessage(param, trans) }
      : {};
  }
  switch (param.type_name) {
    case 'int':
      return readInt(text, trans);
    case 'float':
      return readFloat(text, trans);
    default:
      return readJSON(param, text, trans);
  }
}

/**
 * The parameters that differ from their defaults, and the problems (under
 * `errorKey(name)`, the parameter's name by default). Shared by Run as job
 * and the per-step fields of Run Pipeline.
 */
export function checkParameters(
  declared: IParameter[],
  fields: Record<string, IFieldState>,
  trans: TranslationBundle,
  errors: Record<string, string>,
  errorKey: (name: string) => string = name => name
): JSONObject {
  const parameters: JSONObject = {};
  for (const param of declared) {
    const field = fields[param.name] ?? initialField(param);
    const read = readField(param, field, trans);
    if (read.error) {
      errors[errorKey(param.name)] = read.error;
      continue;
    }
    if (read.value === undefined) {
      continue;
    }
    if (hasLiteralDefault(param) && deepEqual(read.value, param.default)) {
      continue;
    }
    parameters[param.name] = read.value;
  }
  return parameters;
}

/** The comma-separated tags, trimmed, without empty ones. */
export function parseTags(text: string): string[] {
  return text
    .split(',')
    .map(t => t.trim())
    .filter(t => t.length > 0);
}

/**
 * Read an optional number field: `fallback` when empty, else the number
 * when `valid`, else the error is recorded under `key`.
 */
function optionalNumber<T>(
  text: string,
  fallback: T,
  valid: (value: number, text: string) => boolean,
  key: string,
  error: string,
  errors: Record<string, string>
): number | T {
  const trimmed = text.trim();
  if (!trimmed) {
    return fallback;
  }
  const value = Number(trimmed);
  if (!valid(value, trimmed)) {
    errors[key] = error;
    return fallback;
  }
  return value;
}

/**
 * Validate the form; the request holds only the parameters that differ from
 * the notebook's defaults (papermill injects overrides, like the CLI's `-p`).
 */
export function checkForm(
  notebook: string,
  info: INotebookParameters,
  state: IRunFormState,
  trans: TranslationBundle
): IFormCheck {
  const errors: Record<string, string> = {};
  const parameters = checkParameters(
    info.parameters,
    state.fields,
    trans,
    errors
  );
  if (!state.kernel) {
    errors[RUN_FIELDS.kernel] = trans.__('Choose a kernel.');
  }
  const gpus = optionalNumber(
    state.gpus,
    0,
    (value, text) => INT_RE.test(text) && value >= 0,
    RUN_FIELDS.gpus,
    trans.__('Enter a whole number of GPUs (0 or more).'),
    errors
  );
  const timeout = optionalNumber(
    state.timeout,
    null,
    value => isFinite(value) && value > 0,
    RUN_FIELDS.timeout,
    trans.__('Enter a positive number of seconds, or leave empty.'),
    errors
  );
  const seed = optionalNumber(
    state.seed,
    null,
    (value, text) =>
      INT_RE.test(text) && value >= 0 && Number.isSafeInteger(value),
    RUN_FIELDS.seed,
    trans.__('Enter a whole number from 0, or leave empty.'),
    errors
  );
  const tags = parseTags(state.tags);
  if (tags.some(t => t.length > 255)) {
    errors[RUN_FIELDS.tags] = trans.__('A tag is at most 255 characters long.');
  }
  if (Object.keys(errors).length) {
    return { request: null, errors };
  }
  const request: ISubmitRequest = {
    notebook,
    parameters,
    kernel: state.kernel,
    gpus,
    timeout,
    tags,
    seed,
    commit: state.commit
  };
  if (state.commit && state.commitMessage.trim()) {
    request.commit_message = state.commitMessage.trim();
  }
  return { request, errors };
}

/** GPUs the form asks for (0 while the field is not a whole number). */
export function requestedGpus(state: IRunFormState): number {
  return INT_RE.test(state.gpus.trim()) ? Number(state.gpus) : 0;
}

/**
 * The kernel to preselect: the `defaultKernel` setting, else the notebook's
 * own kernel, else the server's default (each only if installed).
 */
export function pickKernel(
  kernels: IKernels,
  notebookKernel: string | null,
  settingKernel: string
): string {
  const installed = new Set(kernels.kernels.map(k => k.name));
  for (const name of [settingKernel, notebookKernel, kernels.default_kernel]) {
    if (name && installed.has(name)) {
      return name;
    }
  }
  return kernels.kernels[0]?.name ?? notebookKernel ?? '';
}

/** `cuda`: torch sees CUDA; `none`: it does not (or no torch); `unknown`. */
export function kernelCudaState(
  kernel: IKernelInfo | undefined
): 'cuda' | 'none' | 'unknown' {
  if (!kernel?.cuda || kernel.cuda.error) {
    return 'unknown';
  }
  return kernel.cuda.cuda ? 'cuda' : 'none';
}

/** One line on what the kernel's torch says about CUDA. */
export function describeKernelCuda(
  cuda: IKernelCuda,
  trans: TranslationBundle
): string {
  if (cuda.error) {
    return trans.__('Could not check this kernel for CUDA: %1', cuda.error);
  }
  if (!cuda.torch) {
    return trans.__('PyTorch is not installed in this kernel.');
  }
  if (!cuda.cuda) {
    return trans.__('PyTorch %1 in this kernel cannot use CUDA.', cuda.torch);
  }
  const names = cuda.devices.map(d => d.name).join(', ');
  return trans._n(
    'PyTorch %2 with CUDA %3 sees %1 device: %4',
    'PyTorch %2 with CUDA %3 sees %1 devices: %4',
    cuda.devices.length,
    cuda.torch,
    cuda.cuda_version ?? '?',
    names
  );
}
