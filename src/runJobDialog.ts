/**
 * The "Run as job" dialog: a dialog that submits before it closes. The
 * accept button validates the form ({@link RunJobBody}) and posts the run,
 * or creates the schedule; on an error the dialog stays open and shows it.
 */
import { Dialog } from '@jupyterlab/apputils';
import { TranslationBundle } from '@jupyterlab/translation';

import type {
  IRunSummary,
  ISchedule,
  IScheduleRequest,
  ISubmitRequest,
  ITriggerDetail,
  ITriggerRequest
} from './api';
import { RunJobBody } from './runAsJob';

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
    this._createTrigger = options.createTrigger ?? null;
    this._jobBody.onValidity = valid => {
      this._setAcceptEnabled(valid);
      this._setAcceptLabel(
        this._jobBody.triggering
          ? trans.__('Create trigger')
          : this._jobBody.scheduling
            ? trans.__('Schedule')
            : trans.__('Run')
      );
    };
  }

  /** The schedule created, once the dialog closed with Schedule. */
  get schedule(): ISchedule | null {
    return this._schedule;
  }

  /** The trigger created, once the dialog closed with Create trigger. */
  get trigger(): ITriggerDetail | null {
    return this._trigger;
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
    const body = this._jobBody;
    if (body.submitting) {
      return;
    }
    const { request } = body.check();
    if (!request) {
      body.update();
      return;
    }
    const scheduled = body.scheduleRequest(request);
    const create = this._createSchedule;
    if (scheduled && create) {
      if (body.schedulePending || Object.keys(body.scheduleErrors()).length) {
        body.update();
        return;
      }
    }
    const triggered = body.triggerRequest(request);
    const createTrigger = this._createTrigger;
    if (triggered && Object.keys(body.triggerErrors()).length) {
      body.update();
      return;
    }
    const submit = this._submit;
    body.setSubmitting(true);
    const sent: Promise<unknown> =
      triggered && createTrigger
        ? createTrigger(triggered).then(trigger => (this._trigger = trigger))
        : scheduled && create
          ? create(scheduled).then(schedule => (this._schedule = schedule))
          : submit(request).then(run => (this._run = run));
    sent
      .then(() => {
        body.setSubmitting(false);
        // Our inputs are valid (checked above); clear the base class's flag,
        // which it computes on input events from possibly stale markup.
        this._checkValidation();
        super.resolve(index);
      })
      .catch(error => {
        body.setSubmitting(false);
        body.setServerError(error);
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
  private _createTrigger:
    ((request: ITriggerRequest) => Promise<ITriggerDetail>) | null;
  private _trigger: ITriggerDetail | null = null;
}

export namespace RunJobDialog {
  export interface IOptions {
    body: RunJobBody;
    trans: TranslationBundle;
    submit: (request: ISubmitRequest) => Promise<IRunSummary>;
    /** Create a schedule instead (when the body offers scheduling). */
    createSchedule?: (request: IScheduleRequest) => Promise<ISchedule>;
    /** Create an on-commit trigger instead (the body's Automation section). */
    createTrigger?: (request: ITriggerRequest) => Promise<ITriggerDetail>;
  }
}
