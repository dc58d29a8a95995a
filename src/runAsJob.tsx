/**
 * The "Run as job" dialog: a form built from the notebook's parameters cell
 * (`GET notebooks/parameters`) and the server's kernels and GPUs
 * (`GET kernels`). The form is validated as the user types; the dialog stays
 * open while the run is submitted and shows the server's error if it refuses.
 */
import { Dialog } from '@jupyterlab/apputils';
import { TranslationBundle } from '@jupyterlab/translation';
import { ReactWidget } from '@jupyterlab/ui-components';
import * as React from 'react';

import {
  IKernelCuda,
  IKernelInfo,
  IKernels,
  INotebookParameters,
  IParameter,
  IRunSummary,
  ISubmitRequest,
  JSONObject,
  JSONValue,
  MLOpsAPIError
} from './api';
import {
  checkScheduleForm,
  initialScheduleState,
  IScheduleFormState,
  ScheduleSection,
  scheduleRequest
} from './scheduleForm';
import { Field, FieldError, inputClass } from './components';
import { ISchedule, IScheduleRequest } from './schedulesApi';

// -- values ------------------------------------------------------------------------

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

function deepEqual(
  a: JSONValue | undefined,
  b: JSONValue | undefined
): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

const INT_RE = /^[-+]?\d+$/;

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
  const text = field.text.trim();
  const literal = hasLiteralDefault(param);
  switch (param.type_name) {
    case 'bool':
      return { value: field.checked };
    case 'str':
      return { value: field.text };
    case 'int': {
      if (!text) {
        return literal ? { error: trans.__('Enter an integer.') } : {};
      }
      if (!INT_RE.test(text)) {
        return { error: trans.__('Enter an integer, e.g. 3.') };
      }
      const value = Number(text);
      if (!Number.isSafeInteger(value)) {
        return { error: trans.__('This integer is too large.') };
      }
      return { value };
    }
    case 'float': {
      if (!text) {
        return literal ? { error: trans.__('Enter a number.') } : {};
      }
      const value = Number(text);
      if (!isFinite(value)) {
        return { error: trans.__('Enter a number, e.g. 0.01 or 1e-3.') };
      }
      return { value };
    }
    default: {
      if (!text) {
        return literal ? { error: trans.__('Enter a JSON value.') } : {};
      }
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
  }
}

// -- form state ----------------------------------------------------------------------

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

/** Names of the non-parameter fields, as keys of `errors`. */
const GPUS = '@gpus';
const TIMEOUT = '@timeout';
const SEED = '@seed';
const TAGS = '@tags';
const KERNEL = '@kernel';

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
  const parameters: JSONObject = {};
  for (const param of info.parameters) {
    const field = state.fields[param.name] ?? initialField(param);
    const read = readField(param, field, trans);
    if (read.error) {
      errors[param.name] = read.error;
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
  if (!state.kernel) {
    errors[KERNEL] = trans.__('Choose a kernel.');
  }
  let gpus = 0;
  if (state.gpus.trim()) {
    if (!INT_RE.test(state.gpus.trim()) || Number(state.gpus) < 0) {
      errors[GPUS] = trans.__('Enter a whole number of GPUs (0 or more).');
    } else {
      gpus = Number(state.gpus);
    }
  }
  let timeout: number | null = null;
  if (state.timeout.trim()) {
    const value = Number(state.timeout);
    if (!isFinite(value) || value <= 0) {
      errors[TIMEOUT] = trans.__(
        'Enter a positive number of seconds, or leave empty.'
      );
    } else {
      timeout = value;
    }
  }
  let seed: number | null = null;
  if (state.seed.trim()) {
    const value = Number(state.seed);
    if (
      !INT_RE.test(state.seed.trim()) ||
      value < 0 ||
      !Number.isSafeInteger(value)
    ) {
      errors[SEED] = trans.__('Enter a whole number from 0, or leave empty.');
    } else {
      seed = value;
    }
  }
  const tags = state.tags
    .split(',')
    .map(t => t.trim())
    .filter(t => t.length > 0);
  if (tags.some(t => t.length > 255)) {
    errors[TAGS] = trans.__('A tag is at most 255 characters long.');
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

// -- view ------------------------------------------------------------------------------

interface IFormProps {
  notebook: string;
  info: INotebookParameters;
  kernels: IKernels;
  state: IRunFormState;
  errors: Record<string, string>;
  problems: Record<string, string>;
  serverError: string | null;
  submitting: boolean;
  trans: TranslationBundle;
  onChange: (state: IRunFormState) => void;
  onRendered: () => void;
  /** More sections after Execution (the schedule section). */
  extra?: JSX.Element | null;
}

function typeLabel(param: IParameter): string {
  return param.annotation || param.type_name;
}

function ParameterInput(props: {
  param: IParameter;
  field: IFieldState;
  error?: string;
  trans: TranslationBundle;
  disabled: boolean;
  onChange: (field: IFieldState) => void;
}): JSX.Element {
  const { param, field, error, trans, onChange } = props;
  const id = `jp-mlops-param-${param.name}`;
  const errorId = `${id}-error`;
  const disabled = props.disabled || (param.nullable && field.isNone);
  const common = {
    id,
    name: param.name,
    disabled,
    'aria-invalid': error ? true : undefined,
    'aria-describedby': error ? errorId : `${id}-help`,
    'data-param': param.name
  };
  const errorClass = error ? ' jp-mlops-invalid' : '';
  let input: JSX.Element;
  switch (param.type_name) {
    case 'bool':
      input = (
        <input
          {...common}
          type="checkbox"
          className="jp-mlops-param-checkbox"
          checked={field.checked}
          onChange={e => onChange({ ...field, checked: e.target.checked })}
        />
      );
      break;
    case 'int':
    case 'float':
      input = (
        <input
          {...common}
          type="text"
          inputMode={param.type_name === 'int' ? 'numeric' : 'decimal'}
          className={`jp-mod-styled jp-mlops-input${errorClass}`}
          value={field.text}
          placeholder={hasLiteralDefault(param) ? '' : param.default_source}
          onChange={e => onChange({ ...field, text: e.target.value })}
        />
      );
      break;
    case 'str':
      input = (
        <input
          {...common}
          type="text"
          className={`jp-mod-styled jp-mlops-input${errorClass}`}
          value={field.text}
          placeholder={hasLiteralDefault(param) ? '' : param.default_source}
          onChange={e => onChange({ ...field, text: e.target.value })}
        />
      );
      break;
    default:
      input = (
        <textarea
          {...common}
          className={`jp-mod-styled jp-mlops-input jp-mlops-json${errorClass}`}
          rows={Math.min(6, Math.max(1, field.text.split('\n').length))}
          spellCheck={false}
          value={field.text}
          placeholder={hasLiteralDefault(param) ? '' : param.default_source}
          onChange={e => onChange({ ...field, text: e.target.value })}
        />
      );
  }
  const help = (
    <span id={`${id}-help`} className="jp-mlops-field-help">
      {param.help ? `${param.help} · ` : ''}
      {trans.__('default: %1', param.default_source)}
    </span>
  );
  const noneToggle = param.nullable && (
    <label className="jp-mlops-none-toggle">
      <input
        type="checkbox"
        checked={field.isNone}
        disabled={props.disabled}
        onChange={e => onChange({ ...field, isNone: e.target.checked })}
      />
      None
    </label>
  );
  const label = (
    <label htmlFor={id} className="jp-mlops-field-label">
      <span className="jp-mlops-param-name">{param.name}</span>
      <span className="jp-mlops-param-type">{typeLabel(param)}</span>
    </label>
  );
  if (param.type_name === 'bool') {
    return (
      <div className="jp-mlops-field" data-param-row={param.name}>
        <div className="jp-mlops-field-control jp-mlops-bool">
          {input}
          {label}
          {noneToggle}
          {help}
        </div>
        <FieldError id={errorId} error={error} />
      </div>
    );
  }
  return (
    <div className="jp-mlops-field" data-param-row={param.name}>
      <div className="jp-mlops-field-head">
        {label}
        {help}
      </div>
      <div className="jp-mlops-field-control">
        {input}
        {noneToggle}
      </div>
      <FieldError id={errorId} error={error} />
    </div>
  );
}

/** `cuda`: torch sees CUDA; `none`: it does not (or no torch); `unknown`. */
function kernelCudaState(
  kernel: IKernelInfo | undefined
): 'cuda' | 'none' | 'unknown' {
  if (!kernel?.cuda || kernel.cuda.error) {
    return 'unknown';
  }
  return kernel.cuda.cuda ? 'cuda' : 'none';
}

/** One line on what the kernel's torch says about CUDA. */
function describeKernelCuda(
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

function RunJobForm(props: IFormProps): JSX.Element {
  const { info, kernels, state, errors, problems, trans, submitting } = props;
  React.useEffect(() => props.onRendered());
  const set = (patch: Partial<IRunFormState>) =>
    props.onChange({ ...state, ...patch });
  const gpuNames = kernels.gpus.map(g => `${g.index}: ${g.name}`).join(', ');
  const kernelInstalled = kernels.kernels.some(k => k.name === info.kernel);
  const selectedKernel = kernels.kernels.find(k => k.name === state.kernel);
  const cudaState = kernelCudaState(selectedKernel);
  const gpusRequested = INT_RE.test(state.gpus.trim()) ? Number(state.gpus) : 0;
  return (
    <form
      className="jp-mlops-runform"
      onSubmit={e => e.preventDefault()}
      aria-busy={submitting}
    >
      <div className="jp-mlops-runform-notebook" title={props.notebook}>
        {props.notebook}
      </div>
      {props.serverError && (
        <div className="jp-mlops-form-error" role="alert">
          {props.serverError}
        </div>
      )}
      <fieldset className="jp-mlops-fieldset" disabled={submitting}>
        <legend>{trans.__('Parameters')}</legend>
        {!info.has_parameters_cell && (
          <p className="jp-mlops-hint">
            {trans.__(
              'This notebook has no cell tagged "parameters": it runs as it is. Tag a cell "parameters" to pass values.'
            )}
          </p>
        )}
        {info.has_parameters_cell && info.parameters.length === 0 && (
          <p className="jp-mlops-hint">
            {trans.__('The parameters cell assigns no variables.')}
          </p>
        )}
        {info.parameters.map(param => (
          <ParameterInput
            key={param.name}
            param={param}
            field={state.fields[param.name] ?? initialField(param)}
            error={errors[param.name] ?? problems[param.name]}
            trans={trans}
            disabled={submitting}
            onChange={field =>
              set({ fields: { ...state.fields, [param.name]: field } })
            }
          />
        ))}
      </fieldset>
      <fieldset className="jp-mlops-fieldset" disabled={submitting}>
        <legend>{trans.__('Execution')}</legend>
        <div className="jp-mlops-field">
          <label htmlFor="jp-mlops-kernel" className="jp-mlops-field-label">
            {trans.__('Kernel')}
          </label>
          <div className="jp-mlops-field-control">
            <select
              id="jp-mlops-kernel"
              className={inputClass(errors[KERNEL])}
              value={state.kernel}
              onChange={e => set({ kernel: e.target.value })}
            >
              {kernels.kernels.map(k => (
                <option key={k.name} value={k.name}>
                  {k.display_name}
                  {k.name === info.kernel ? ` (${trans.__('notebook')})` : ''}
                  {k.cuda?.cuda ? ` · ${trans.__('CUDA')}` : ''}
                </option>
              ))}
            </select>
          </div>
          {selectedKernel?.cuda && (
            <div className="jp-mlops-field-help" data-kernel-cuda={cudaState}>
              {describeKernelCuda(selectedKernel.cuda, trans)}
            </div>
          )}
          {gpusRequested > 0 && cudaState === 'none' && (
            <div className="jp-mlops-field-warning" role="status">
              {trans.__(
                'This kernel cannot use CUDA: the run would get GPUs it cannot use.'
              )}
            </div>
          )}
          {info.kernel && !kernelInstalled && (
            <div className="jp-mlops-field-help">
              {trans.__(
                'The notebook asks for kernel "%1", which is not installed.',
                info.kernel
              )}
            </div>
          )}
          <FieldError error={errors[KERNEL]} />
        </div>
        <div className="jp-mlops-field-row">
          <Field
            id="jp-mlops-gpus"
            label={trans.__('GPUs')}
            error={errors[GPUS]}
            help={
              kernels.gpus.length
                ? trans._n(
                    '%1 GPU on this server: %2',
                    '%1 GPUs on this server: %2',
                    kernels.gpus.length,
                    gpuNames
                  )
                : trans.__('No GPU detected on this server.')
            }
          >
            <input
              id="jp-mlops-gpus"
              type="text"
              inputMode="numeric"
              className={inputClass(errors[GPUS])}
              value={state.gpus}
              onChange={e => set({ gpus: e.target.value })}
            />
          </Field>
          <Field
            id="jp-mlops-timeout"
            label={trans.__('Timeout (seconds)')}
            error={errors[TIMEOUT]}
          >
            <input
              id="jp-mlops-timeout"
              type="text"
              inputMode="decimal"
              className={inputClass(errors[TIMEOUT])}
              placeholder={trans.__('none')}
              value={state.timeout}
              onChange={e => set({ timeout: e.target.value })}
            />
          </Field>
          <Field
            id="jp-mlops-seed"
            label={trans.__('Seed')}
            error={errors[SEED]}
          >
            <input
              id="jp-mlops-seed"
              type="text"
              inputMode="numeric"
              className={inputClass(errors[SEED])}
              placeholder={trans.__('auto')}
              value={state.seed}
              onChange={e => set({ seed: e.target.value })}
            />
          </Field>
        </div>
        <Field
          id="jp-mlops-tags"
          label={trans.__('Tags (comma-separated)')}
          error={errors[TAGS]}
        >
          <input
            id="jp-mlops-tags"
            type="text"
            className={inputClass(errors[TAGS])}
            placeholder={trans.__('e.g. baseline, lr-sweep')}
            value={state.tags}
            onChange={e => set({ tags: e.target.value })}
          />
        </Field>
        <div className="jp-mlops-field">
          <label className="jp-mlops-checkbox-label">
            <input
              id="jp-mlops-commit"
              type="checkbox"
              checked={state.commit}
              onChange={e => set({ commit: e.target.checked })}
            />
            {trans.__('Commit the notebook to the current branch')}
          </label>
          {state.commit && (
            <input
              id="jp-mlops-commit-message"
              type="text"
              aria-label={trans.__('Commit message')}
              className="jp-mod-styled jp-mlops-input"
              placeholder={trans.__('Commit message (optional)')}
              value={state.commitMessage}
              onChange={e => set({ commitMessage: e.target.value })}
            />
          )}
        </div>
      </fieldset>
      {props.extra}
      {submitting && (
        <div className="jp-mlops-hint" role="status">
          {trans.__('Submitting…')}
        </div>
      )}
    </form>
  );
}

/**
 * The dialog's body: holds the form state and renders the form.
 */
export class RunJobBody extends ReactWidget {
  constructor(options: RunJobBody.IOptions) {
    super();
    this.addClass('jp-mlops-runform-body');
    this._options = options;
    const fields: Record<string, IFieldState> = {};
    for (const param of options.info.parameters) {
      fields[param.name] = initialField(param);
    }
    this._state = {
      fields,
      kernel: pickKernel(
        options.kernels,
        options.info.kernel,
        options.defaultKernel ?? ''
      ),
      gpus: '0',
      timeout: '',
      tags: '',
      seed: '',
      commit: false,
      commitMessage: ''
    };
  }

  /** Called after each render with whether the form can be submitted. */
  onValidity: ((valid: boolean) => void) | null = null;

  /** The current form state. */
  get state(): IRunFormState {
    return this._state;
  }

  /** Validate; the request to send, or null (errors are shown). */
  check(): IFormCheck {
    return checkForm(
      this._options.notebook,
      this._options.info,
      this._state,
      this._options.trans
    );
  }

  /** Show an error of the server (e.g. invalid parameters) in the form. */
  setServerError(error: unknown): void {
    if (error instanceof MLOpsAPIError) {
      this._serverError = error.message;
      this._problems = error.problems;
    } else {
      this._serverError =
        error instanceof Error ? error.message : String(error);
      this._problems = {};
    }
    this.update();
  }

  setSubmitting(submitting: boolean): void {
    this._submitting = submitting;
    this.update();
  }

  get submitting(): boolean {
    return this._submitting;
  }

  /** Whether the form creates a schedule instead of a run. */
  get scheduling(): boolean {
    return !!this._options.scheduling && this._schedule.enabled;
  }

  /** Problems of the schedule section (none when not scheduling). */
  scheduleErrors(): Record<string, string> {
    return this.scheduling
      ? checkScheduleForm(this._schedule, this._options.trans)
      : {};
  }

  /** The schedule to create for a valid run request, or null when not scheduling. */
  scheduleRequest(request: ISubmitRequest): IScheduleRequest | null {
    return this.scheduling ? scheduleRequest(request, this._schedule) : null;
  }

  protected render(): JSX.Element {
    const { errors } = this.check();
    const scheduleErrors = this.scheduleErrors();
    const trans = this._options.trans;
    const extra = this._options.scheduling ? (
      <ScheduleSection
        state={this._schedule}
        errors={scheduleErrors}
        serverError={this.scheduling ? this._serverError : null}
        ignored={[
          ...(this._state.seed.trim() ? [trans.__('seed')] : []),
          ...(this._state.commit ? [trans.__('commit to the branch')] : [])
        ]}
        disabled={this._submitting}
        trans={trans}
        onChange={schedule => {
          this._schedule = schedule;
          this._serverError = null; // it was about the previous values
          this.update();
        }}
      />
    ) : null;
    return (
      <RunJobForm
        notebook={this._options.notebook}
        info={this._options.info}
        kernels={this._options.kernels}
        state={this._state}
        errors={errors}
        problems={this._problems}
        serverError={this.scheduling ? null : this._serverError}
        submitting={this._submitting}
        trans={trans}
        onChange={state => {
          this._state = state;
          this.update();
        }}
        onRendered={() =>
          this.onValidity?.(
            !this._submitting &&
              Object.keys(errors).length === 0 &&
              Object.keys(scheduleErrors).length === 0
          )
        }
        extra={extra}
      />
    );
  }

  private _options: RunJobBody.IOptions;
  private _state: IRunFormState;
  private _serverError: string | null = null;
  private _problems: Record<string, string> = {};
  private _submitting = false;
  private _schedule: IScheduleFormState = initialScheduleState();
}

export namespace RunJobBody {
  export interface IOptions {
    notebook: string;
    info: INotebookParameters;
    kernels: IKernels;
    defaultKernel?: string;
    trans: TranslationBundle;
    /** Offer "Run on a schedule" (needs `createSchedule` in the dialog). */
    scheduling?: boolean;
  }
}

/**
 * A dialog that submits before it closes: the accept button validates the
 * form and posts the run; on an error the dialog stays open and shows it.
 */
export class RunJobDialog extends Dialog<void> {
  constructor(options: RunJobDialog.IOptions) {
    const trans = options.trans;
    const buttons = [
      Dialog.cancelButton({ label: trans.__('Cancel') }),
      Dialog.okButton({
        label: trans.__('Run'),
        caption: trans.__('Submit the notebook as a job')
      })
    ];
    super({
      title: trans.__('Run as job'),
      body: options.body,
      buttons,
      defaultButton: 1,
      focusNodeSelector: 'input, textarea, select',
      hasClose: true
    });
    this.addClass('jp-mlops-runjob-dialog');
    this._jobBody = options.body;
    this._buttonList = buttons;
    this._submit = options.submit;
    this._createSchedule = options.createSchedule ?? null;
    this._jobBody.onValidity = valid => {
      this._setAcceptEnabled(valid);
      this._setAcceptLabel(
        this._jobBody.scheduling ? trans.__('Schedule') : trans.__('Run')
      );
    };
  }

  /** The schedule created, once the dialog closed with Schedule. */
  get schedule(): ISchedule | null {
    return this._schedule;
  }

  /** The run created by the submit, once the dialog closed with Run. */
  get run(): IRunSummary | null {
    return this._run;
  }

  resolve(index?: number): void {
    const button = this._buttonList[index ?? 1];
    if (!button || !button.accept) {
      super.resolve(index);
      return;
    }
    if (this._jobBody.submitting) {
      return;
    }
    const { request } = this._jobBody.check();
    if (!request) {
      this._jobBody.update();
      return;
    }
    const scheduled = this._jobBody.scheduleRequest(request);
    if (scheduled && this._createSchedule) {
      if (Object.keys(this._jobBody.scheduleErrors()).length) {
        this._jobBody.update();
        return;
      }
      this._jobBody.setSubmitting(true);
      this._createSchedule(scheduled)
        .then(schedule => {
          this._schedule = schedule;
          this._jobBody.setSubmitting(false);
          this._checkValidation();
          super.resolve(index);
        })
        .catch(error => {
          this._jobBody.setSubmitting(false);
          this._jobBody.setServerError(error);
        });
      return;
    }
    this._jobBody.setSubmitting(true);
    this._submit(request)
      .then(run => {
        this._run = run;
        this._jobBody.setSubmitting(false);
        // Our inputs are valid (checked above); clear the base class's flag,
        // which it computes on input events from possibly stale markup.
        this._checkValidation();
        super.resolve(index);
      })
      .catch(error => {
        this._jobBody.setSubmitting(false);
        this._jobBody.setServerError(error);
      });
  }

  private _setAcceptLabel(label: string): void {
    const node = this.node.querySelector<HTMLElement>(
      '.jp-Dialog-footer .jp-mod-accept .jp-Dialog-buttonLabel'
    );
    if (node && node.textContent !== label) {
      node.textContent = label;
    }
  }

  private _setAcceptEnabled(enabled: boolean): void {
    const node = this.node.querySelector<HTMLButtonElement>(
      '.jp-Dialog-footer .jp-mod-accept'
    );
    if (node) {
      node.disabled = !enabled;
    }
  }

  private _jobBody: RunJobBody;
  private _buttonList: ReadonlyArray<Dialog.IButton>;
  private _submit: (request: ISubmitRequest) => Promise<IRunSummary>;
  private _run: IRunSummary | null = null;
  private _createSchedule:
    ((request: IScheduleRequest) => Promise<ISchedule>) | null;
  private _schedule: ISchedule | null = null;
}

export namespace RunJobDialog {
  export interface IOptions {
    body: RunJobBody;
    trans: TranslationBundle;
    submit: (request: ISubmitRequest) => Promise<IRunSummary>;
    /** Create a schedule instead (when the body offers scheduling). */
    createSchedule?: (request: IScheduleRequest) => Promise<ISchedule>;
  }
}
