/**
 * Running a notebook as a job from the UI: offer to save unsaved changes
 * (the job runs the file on disk), fetch the notebook's parameters and the
 * kernels, show the Run as job dialog, then list what it created (a run, a
 * schedule or an on-commit trigger) and say so.
 */
import { JupyterFrontEnd } from '@jupyterlab/application';
import { Dialog, Notification, showDialog } from '@jupyterlab/apputils';
import { IDocumentManager } from '@jupyterlab/docmanager';
import { DocumentRegistry, IDocumentWidget } from '@jupyterlab/docregistry';
import { TranslationBundle } from '@jupyterlab/translation';

import type { PartialJSONObject } from '@lumino/coreutils';

import type { MLOpsClient } from './api';
import { basename, shortId } from './format';
import { SCHEDULES_PANEL_ID } from './ids';
import { RunJobBody } from './runAsJob';
import { RunJobDialog } from './runJobDialog';
import { notifyError, RunWidgets } from './runWidgets';
import { differsFromDisk } from './unsavedChanges';
import { notifyScheduleCreated } from './schedules';
import { SchedulesModel } from './schedulesModel';
import { describeTrigger } from './triggersApi';

export class RunAsJobLauncher {
  constructor(options: RunAsJobLauncher.IOptions) {
    this._options = options;
  }

  /** The kernel the dialog preselects (the `defaultKernel` setting). */
  defaultKernel = '';

  /** The document widget of the current notebook, if the current widget is one. */
  currentNotebook(): IDocumentWidget | null {
    const widget = this._options.app.shell
      .currentWidget as IDocumentWidget | null;
    const context = widget?.context as DocumentRegistry.Context | undefined;
    if (
      context &&
      typeof context.path === 'string' &&
      context.path.endsWith('.ipynb')
    ) {
      return widget;
    }
    return null;
  }

  /** Run the notebook at `rawPath` (a path of the contents manager). */
  async run(rawPath: string): Promise<void> {
    const { app, client, trans, widgets, schedules } = this._options;
    if (!(await this._ensureSaved(rawPath))) {
      return;
    }
    const path = app.serviceManager.contents.localPath(rawPath);
    let info, kernels;
    try {
      [info, kernels] = await Promise.all([
        client.notebookParameters(path),
        client.kernels()
      ]);
    } catch (error) {
      notifyError(trans.__('Cannot run "%1" as a job', path), error);
      return;
    }
    const body = new RunJobBody({
      notebook: path,
      info,
      kernels,
      defaultKernel: this.defaultKernel,
      trans,
      scheduling: true,
      cronPreview: (expression, timezone) =>
        client.cronPreview(expression, timezone)
    });
    const dialog = new RunJobDialog({
      body,
      trans,
      submit: request => client.submitRun(request),
      createSchedule: request => schedules.client.create(request),
      createTrigger: request => schedules.triggersClient.create(request)
    });
    await dialog.launch();
    const schedule = dialog.schedule;
    if (schedule) {
      schedules.add(schedule);
      notifyScheduleCreated(schedule, trans, () =>
        app.shell.activateById(SCHEDULES_PANEL_ID)
      );
    }
    const trigger = dialog.trigger;
    if (trigger) {
      void schedules.refresh();
      Notification.success(
        trans.__(
          'Trigger "%1" created: runs %2 on %3.',
          trigger.name,
          basename(path),
          describeTrigger(trigger)
        ),
        {
          autoClose: 8000,
          actions: [
            {
              label: trans.__('Show automations'),
              caption: trans.__('Open the Schedules panel'),
              callback: () => app.shell.activateById(SCHEDULES_PANEL_ID)
            }
          ]
        }
      );
    }
    const run = dialog.run;
    if (run) {
      widgets.runStarted(
        run,
        trans.__(
          'Run %1 of "%2" is %3.',
          shortId(run.id),
          basename(path),
          run.status
        )
      );
    }
  }

  /** Offer to save unsaved changes (the job runs the file on disk); false: abort. */
  private async _ensureSaved(path: string): Promise<boolean> {
    const { docManager, trans } = this._options;
    const widget = docManager?.findWidget(path) ?? this.currentNotebook();
    const context = widget?.context;
    if (!context || context.path !== path || !context.model.dirty) {
      return true;
    }
    // Dirty may only mean a kernel started (metadata) or cells ran (outputs).
    try {
      const contents = this._options.app.serviceManager.contents;
      const saved = await contents.get(path, { content: true });
      const current = context.model.toJSON() as PartialJSONObject;
      if (
        saved &&
        !differsFromDisk(current, saved.content as PartialJSONObject)
      ) {
        return true;
      }
    } catch (error) {
      console.warn('jupyter-mlops: could not compare with the file', error);
    }
    const saveAndRun = Dialog.okButton({ label: trans.__('Save and run') });
    const runSaved = Dialog.okButton({
      label: trans.__('Run saved version'),
      displayType: 'default'
    });
    const result = await showDialog({
      title: trans.__('Save before running?'),
      body: trans.__(
        '"%1" has unsaved changes. The job runs the notebook as saved on disk.',
        basename(path)
      ),
      buttons: [
        Dialog.cancelButton({ label: trans.__('Cancel') }),
        runSaved,
        saveAndRun
      ],
      defaultButton: 2
    });
    if (!result.button.accept) {
      return false;
    }
    if (result.button.label === saveAndRun.label) {
      await context.save();
    }
    return true;
  }

  private _options: RunAsJobLauncher.IOptions;
}

export namespace RunAsJobLauncher {
  export interface IOptions {
    app: JupyterFrontEnd;
    client: MLOpsClient;
    trans: TranslationBundle;
    widgets: RunWidgets;
    schedules: SchedulesModel;
    docManager: IDocumentManager | null;
  }
}
