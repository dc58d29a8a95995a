/**
 * The body of the "Run as job" dialog: a form built from the notebook's
 * parameters cell (`GET notebooks/parameters`) and the server's kernels and
 * GPUs (`GET kernels`), validated as the user types (`runForm.ts`), with the
 * Schedule section (`scheduleForm.tsx`) to run it on a cron schedule instead.
 * The dialog around it is `runJobDialog.ts`.
 */
import { TranslationBundle } from '@jupyterlab/translation';
import { ReactWidget } from '@jupyterlab/ui-components';
import * as React from 'react';

import type {
  ICronPreview,
  IKernels,
  INotebookParameters,
  IScheduleRequest,
  ISubmitRequest,
  ITriggerRequest
} from './api';
import { ErrorBanner } from './components';
import { CronCheck, CronVerdict } from './cronCheck';
import {
  CheckboxField,
  FieldError,
  inputClass,
  TextField,
  textBinder
} from './formFields';
import { ParameterInput } from './parameterInput';
import { errorMessage, MLOpsAPIError } from './request';
import {
  checkForm,
  describeKernelCuda,
  IFormCheck,
  initialField,
  initialRunForm,
  IRunFormState,
  kernelCudaState,
  pickKernel,
  requestedGpus,
  RUN_FIELDS,
  syncSeed
} from './runForm';
import {
  checkScheduleForm,
  cronCheckZone,
  initialScheduleState,
  IScheduleFormState,
  ScheduleSection,
  scheduleRequest
} from './scheduleForm';
import {
  checkTriggerForm,
  initialTriggerState,
  ITriggerFormState,
  TriggerSection,
  triggerRequest
} from './triggerForm';

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

/** The Parameters fieldset: one input per parameter of the notebook. */
function ParametersFieldset(props: IFormProps): JSX.Element {
  const { info, state, errors, problems, trans, submitting } = props;
  return (
    <fieldset className="jp-mlops-fieldset" disabled={submitting}>
      <legend>{trans.__('Parameters')}</legend>
      {!info.has_parameters_cell && (
        <p className="jp-mlops-hint">
          {trans.__(
            'This notebook has no cell tagged "parameters": it runs as it is. Tag a cell "parameters" to pass values.'
          )}
        </p>
      )}
      {(info.problems ?? []).map(problem => (
        <p key={problem} className="jp-mlops-hint">
          {problem}
        </p>
      ))}
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
            props.onChange({
              ...state,
              fields: { ...state.fields, [param.name]: field }
            })
          }
        />
      ))}
    </fieldset>
  );
}

/** The kernel drop-down, with what its torch says about CUDA. */
function KernelField(props: IFormProps): JSX.Element {
  const { info, kernels, state, errors, trans } = props;
  const error = errors[RUN_FIELDS.kernel];
  const kernelInstalled = kernels.kernels.some(k => k.name === info.kernel);
  const selectedKernel = kernels.kernels.find(k => k.name === state.kernel);
  const cudaState = kernelCudaState(selectedKernel);
  return (
    <div className="jp-mlops-field">
      <label htmlFor="jp-mlops-kernel" className="jp-mlops-field-label">
        {trans.__('Kernel')}
      </label>
      <div className="jp-mlops-field-control">
        <select
          id="jp-mlops-kernel"
          className={inputClass(error)}
          value={state.kernel}
          onChange={e => props.onChange({ ...state, kernel: e.target.value })}
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
      {requestedGpus(state) > 0 && cudaState === 'none' && (
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
      <FieldError error={error} />
    </div>
  );
}

/** The Execution fieldset: kernel, GPUs, timeout, seed, tags, commit. */
function ExecutionFieldset(props: IFormProps): JSX.Element {
  const { kernels, state, errors, trans, submitting } = props;
  const set = (patch: Partial<IRunFormState>) =>
    props.onChange({ ...state, ...patch });
  const bind = textBinder(state, set, errors, RUN_FIELDS);
  const gpuNames = kernels.gpus.map(g => `${g.index}: ${g.name}`).join(', ');
  const numberFields: Array<{
    key: 'gpus' | 'timeout' | 'seed';
    label: string;
    inputMode: 'numeric' | 'decimal';
    placeholder?: string;
    help?: string;
  }> = [
    {
      key: 'gpus',
      label: trans.__('GPUs'),
      inputMode: 'numeric',
      help: kernels.gpus.length
        ? trans._n(
            '%1 GPU on this server: %2',
            '%1 GPUs on this server: %2',
            kernels.gpus.length,
            gpuNames
          )
        : trans.__('No GPU detected on this server.')
    },
    {
      key: 'timeout',
      label: trans.__('Timeout (seconds)'),
      inputMode: 'decimal',
      placeholder: trans.__('none')
    },
    {
      key: 'seed',
      label: trans.__('Seed'),
      inputMode: 'numeric',
      placeholder: trans.__('auto')
    }
  ];
  return (
    <fieldset className="jp-mlops-fieldset" disabled={submitting}>
      <legend>{trans.__('Execution')}</legend>
      <KernelField {...props} />
      <div className="jp-mlops-field-row">
        {numberFields.map(f => (
          <TextField
            key={f.key}
            id={`jp-mlops-${f.key}`}
            label={f.label}
            help={f.help}
            inputMode={f.inputMode}
            placeholder={f.placeholder}
            {...bind(f.key)}
          />
        ))}
      </div>
      <TextField
        id="jp-mlops-tags"
        label={trans.__('Tags (comma-separated)')}
        placeholder={trans.__('e.g. baseline, lr-sweep')}
        {...bind('tags')}
      />
      <div className="jp-mlops-field">
        <CheckboxField
          id="jp-mlops-commit"
          label={trans.__('Commit the notebook to the current branch')}
          checked={state.commit}
          onChange={commit => set({ commit })}
        />
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
  );
}

function RunJobForm(props: IFormProps): JSX.Element {
  const { trans, submitting } = props;
  React.useEffect(() => props.onRendered());
  return (
    <form
      className="jp-mlops-runform"
      onSubmit={e => e.preventDefault()}
      aria-busy={submitting}
    >
      <div className="jp-mlops-runform-notebook" title={props.notebook}>
        {props.notebook}
      </div>
      <ErrorBanner error={props.serverError} className="jp-mlops-form-error" />
      <ParametersFieldset {...props} />
      <ExecutionFieldset {...props} />
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
    this._state = initialRunForm(
      options.info,
      pickKernel(
        options.kernels,
        options.info.kernel,
        options.defaultKernel ?? ''
      )
    );
    this._cron = options.cronPreview
      ? new CronCheck({
          preview: options.cronPreview,
          onChange: () => this.update()
        })
      : null;
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
    this._serverError = errorMessage(error);
    this._problems = error instanceof MLOpsAPIError ? error.problems : {};
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

  /** Whether the server's check of the cron expression is still awaited. */
  get schedulePending(): boolean {
    return this.scheduling && this._cronVerdict().state === 'pending';
  }

  /** Problems of the schedule section (none when not scheduling). */
  scheduleErrors(): Record<string, string> {
    return this.scheduling
      ? checkScheduleForm(
          this._schedule,
          this._options.trans,
          this._cronVerdict()
        )
      : {};
  }

  /** The schedule to create for a valid run request, or null when not scheduling. */
  scheduleRequest(request: ISubmitRequest): IScheduleRequest | null {
    return this.scheduling ? scheduleRequest(request, this._schedule) : null;
  }

  /** Whether the form creates an on-commit trigger instead of a run. */
  get triggering(): boolean {
    return !!this._options.scheduling && this._trigger.enabled;
  }

  /** Problems of the automation section (none when it is off). */
  triggerErrors(): Record<string, string> {
    return this.triggering
      ? checkTriggerForm(this._trigger, this._options.trans, this.scheduling)
      : {};
  }

  /** The trigger to create for a valid run request, or null when not triggering. */
  triggerRequest(request: ISubmitRequest): ITriggerRequest | null {
    return this.triggering ? triggerRequest(request, this._trigger) : null;
  }

  dispose(): void {
    this._cron?.dispose();
    super.dispose();
  }

  protected render(): JSX.Element {
    const { errors } = this.check();
    const scheduleErrors = this.scheduleErrors();
    const triggerErrors = this.triggerErrors();
    const trans = this._options.trans;
    const automating = this.scheduling || this.triggering;
    const extra = this._options.scheduling ? (
      <>
        <ScheduleSection
          state={this._schedule}
          errors={scheduleErrors}
          verdict={this.scheduling ? this._cronVerdict() : { state: 'unknown' }}
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
        <TriggerSection
          state={this._trigger}
          errors={triggerErrors}
          serverError={this.triggering ? this._serverError : null}
          disabled={this._submitting}
          trans={trans}
          onChange={trigger => {
            this._trigger = trigger;
            this._serverError = null;
            this.update();
          }}
        />
      </>
    ) : null;
    return (
      <RunJobForm
        notebook={this._options.notebook}
        info={this._options.info}
        kernels={this._options.kernels}
        state={this._state}
        errors={errors}
        problems={this._problems}
        serverError={automating ? null : this._serverError}
        submitting={this._submitting}
        trans={trans}
        onChange={state => {
          this._state = syncSeed(this._state, state);
          this.update();
        }}
        onRendered={() =>
          this.onValidity?.(
            !this._submitting &&
              !this.schedulePending &&
              Object.keys(errors).length === 0 &&
              Object.keys(scheduleErrors).length === 0 &&
              Object.keys(triggerErrors).length === 0
          )
        }
        extra={extra}
      />
    );
  }

  /** The server's verdict on the expression (asked for when it changed). */
  private _cronVerdict(): CronVerdict {
    if (!this._cron || !this._schedule.cron.trim()) {
      return { state: 'unknown' };
    }
    return this._cron.verdict(
      this._schedule.cron,
      cronCheckZone(this._schedule, this._options.trans)
    );
  }

  private _options: RunJobBody.IOptions;
  private _state: IRunFormState;
  private _serverError: string | null = null;
  private _problems: Record<string, string> = {};
  private _submitting = false;
  private _schedule: IScheduleFormState = initialScheduleState();
  private _trigger: ITriggerFormState = initialTriggerState();
  private _cron: CronCheck | null;
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
    /** The server's check of a cron expression (`MLOpsClient.cronPreview`). */
    cronPreview?: (
      expression: string,
      timezone?: string
    ) => Promise<ICronPreview>;
  }
}
