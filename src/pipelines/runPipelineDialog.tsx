/**
 * The "Run Pipeline" dialog: one group of fields per step, each its
 * notebook's parameters (read by the endpoint and drawn by the inputs of
 * Run as job) with the pipeline file's values as defaults. Like Run as job,
 * it submits before it closes: a 400 (every problem, by step) stays in the
 * dialog next to the step it is about.
 */
import { Dialog } from '@jupyterlab/apputils';
import { TranslationBundle } from '@jupyterlab/translation';
import { ReactWidget } from '@jupyterlab/ui-components';
import * as React from 'react';

import type { INotebookParameters } from '../api';
import { ErrorBanner, Loading } from '../components';
import { CheckboxField, FieldError } from '../formFields';
import { ParameterInput } from '../parameterInput';
import { errorMessage, MLOpsAPIError } from '../request';
import { IFieldState } from '../runForm';
import type { IPipelineRunDetail, PipelinesClient } from './api';
import {
  checkPipelineForm,
  fieldKey,
  initialStepFields,
  IPipelineFormCheck,
  IStepForm,
  stepForm
} from './stepForm';

/** The server's problems about one step (`steps.NAME…` keys). */
function stepProblems(
  problems: Record<string, string>,
  step: string
): string | null {
  const prefix = `steps.${step}`;
  const found = Object.entries(problems)
    .filter(([where]) => where === prefix || where.startsWith(`${prefix}.`))
    .map(([, what]) => what);
  return found.length ? found.join('; ') : null;
}

export class PipelineRunBody extends ReactWidget {
  constructor(options: PipelineRunBody.IOptions) {
    super();
    this._options = options;
    this.addClass('jp-mlops-pipeline-form');
    this.ready = this._load();
  }

  /** Settles once the file and every step's parameters were read. */
  readonly ready: Promise<void>;

  private async _load(): Promise<void> {
    const { client, path, notebookParameters } = this._options;
    try {
      const file = await client.file(path);
      this._steps = await Promise.all(
        file.steps.map(step =>
          notebookParameters(step.notebook).then(
            (info: INotebookParameters) => stepForm(step, info),
            (error: unknown) => stepForm(step, null, errorMessage(error))
          )
        )
      );
      this._fields = initialStepFields(this._steps);
    } catch (error) {
      this._loadError = errorMessage(error);
    }
    this._loading = false;
    this.update();
  }

  /** Check the fields; the request, or null with the errors shown. */
  check(): IPipelineFormCheck {
    if (this._loading || this._loadError) {
      return { request: null, errors: {} };
    }
    const checked = checkPipelineForm(
      this._options.path,
      this._steps,
      this._fields,
      this._noCache,
      this._options.trans
    );
    this._errors = checked.errors;
    this.update();
    return checked;
  }

  /** Whether the file and the steps' parameters are still being read. */
  get loading(): boolean {
    return this._loading;
  }

  /** The client the dialog posts the run with. */
  get client(): PipelinesClient {
    return this._options.client;
  }

  get submitting(): boolean {
    return this._submitting;
  }

  setSubmitting(submitting: boolean): void {
    this._submitting = submitting;
    this.update();
  }

  setServerError(error: unknown): void {
    this._serverError = errorMessage(error);
    this._problems = error instanceof MLOpsAPIError ? error.problems : {};
    this.update();
  }

  private _setField(key: string, field: IFieldState): void {
    this._fields = { ...this._fields, [key]: field };
    if (this._errors[key]) {
      this._errors = { ...this._errors };
      delete this._errors[key];
    }
    this.update();
  }

  private _renderStep(step: IStepForm): JSX.Element {
    const trans = this._options.trans;
    const problem = stepProblems(this._problems, step.name);
    return (
      <fieldset
        key={step.name}
        className="jp-mlops-pipeline-step-fields"
        data-step={step.name}
      >
        <legend>
          <span className="jp-mlops-param-name">{step.name}</span>{' '}
          <span className="jp-mlops-field-help">{step.notebook}</span>
        </legend>
        {step.error && <p className="jp-mlops-hint">{step.error}</p>}
        {step.parameters.map(param => {
          const key = fieldKey(step.name, param.name);
          return (
            <ParameterInput
              key={key}
              param={param}
              field={this._fields[key]}
              error={this._errors[key]}
              trans={trans}
              disabled={this._submitting}
              idPrefix={`${step.name}-`}
              onChange={field => this._setField(key, field)}
            />
          );
        })}
        {Object.entries(step.references).map(([name, text]) => (
          <div
            key={name}
            className="jp-mlops-field jp-mlops-pipeline-reference"
            data-param-row={name}
          >
            <span className="jp-mlops-param-name">{name}</span>{' '}
            <code>{text}</code>
          </div>
        ))}
        {!step.error &&
          !step.parameters.length &&
          !Object.keys(step.references).length && (
            <p className="jp-mlops-hint">
              {trans.__('The notebook declares no parameters.')}
            </p>
          )}
        <FieldError error={problem} />
      </fieldset>
    );
  }

  render(): JSX.Element {
    const trans = this._options.trans;
    if (this._loading) {
      return <Loading trans={trans} />;
    }
    if (this._loadError) {
      return <ErrorBanner error={this._loadError} />;
    }
    return (
      <div className="jp-mlops-pipeline-form-inner">
        <p className="jp-mlops-hint">
          {trans.__(
            'Every step runs at one snapshot of the repository; steps whose code, parameters and inputs did not change are served from the cache.'
          )}
        </p>
        {this._steps.map(step => this._renderStep(step))}
        <CheckboxField
          id="jp-mlops-pipeline-no-cache"
          label={trans.__('Run every step (no cache)')}
          checked={this._noCache}
          onChange={checked => {
            this._noCache = checked;
            this.update();
          }}
        />
        <ErrorBanner error={this._serverError} />
      </div>
    );
  }

  private _options: PipelineRunBody.IOptions;
  private _loading = true;
  private _loadError: string | null = null;
  private _steps: IStepForm[] = [];
  private _fields: Record<string, IFieldState> = {};
  private _errors: Record<string, string> = {};
  private _noCache = false;
  private _submitting = false;
  private _serverError: string | null = null;
  private _problems: Record<string, string> = {};
}

export namespace PipelineRunBody {
  export interface IOptions {
    path: string;
    client: PipelinesClient;
    /** The endpoint Run as job reads a notebook's parameters with. */
    notebookParameters: (path: string) => Promise<INotebookParameters>;
    trans: TranslationBundle;
  }
}

/** The dialog around {@link PipelineRunBody}: Run posts, then closes. */
export class PipelineRunDialog extends Dialog<void> {
  constructor(options: { body: PipelineRunBody; trans: TranslationBundle }) {
    const trans = options.trans;
    const buttons = [
      Dialog.cancelButton({ label: trans.__('Cancel') }),
      Dialog.okButton({ label: trans.__('Run') })
    ];
    super({
      title: trans.__('Run pipeline'),
      body: options.body,
      buttons,
      defaultButton: 1,
      focusNodeSelector: 'input, textarea',
      hasClose: true
    });
    this.addClass('jp-mlops-pipeline-dialog');
    this._pipelineBody = options.body;
    this._buttonList = buttons;
    this._client = options.body.client;
  }

  /** The pipeline run started, once the dialog closed with Run. */
  get run(): IPipelineRunDetail | null {
    return this._run;
  }

  resolve(index?: number): void {
    const button = this._buttonList[index ?? 1];
    const body = this._pipelineBody;
    if (!button || !button.accept) {
      super.resolve(index);
      return;
    }
    if (body.submitting) {
      return;
    }
    if (body.loading) {
      // Run clicked before the steps' parameters arrived: run once they have.
      void body.ready.then(() => {
        if (!this.isDisposed) {
          this.resolve(index);
        }
      });
      return;
    }
    const { request } = body.check();
    if (!request) {
      return;
    }
    body.setSubmitting(true);
    this._client
      .run(request)
      .then(run => {
        this._run = run;
        body.setSubmitting(false);
        super.resolve(index);
      })
      .catch(error => {
        body.setSubmitting(false);
        body.setServerError(error);
      });
  }

  private _pipelineBody: PipelineRunBody;
  private _buttonList: ReadonlyArray<Dialog.IButton>;
  private _client: PipelinesClient;
  private _run: IPipelineRunDetail | null = null;
}
