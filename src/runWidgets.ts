/**
 * The main-area widgets of runs: the detail of one run and Compare, their
 * trackers (restored on reload), and the actions a run detail asks for
 * (cancel, reproduce, delete, open).
 */
import { JupyterFrontEnd } from '@jupyterlab/application';
import {
  Clipboard,
  Dialog,
  MainAreaWidget,
  Notification,
  showDialog,
  WidgetTracker
} from '@jupyterlab/apputils';
import type { IDocumentManager } from '@jupyterlab/docmanager';
import { TranslationBundle } from '@jupyterlab/translation';

import type { IRunDetail, IRunSummary, MLOpsClient } from './api';
import { CompareWidget } from './compare';
import { basename, runLabel, shortId } from './format';
import { mlopsIcon } from './icons';
import type { RunsModel } from './model';
import { errorMessage } from './request';
import { IRunActions, RunDetailWidget } from './runDetail';
import { GIT_FILE_HISTORY, gitHistoryArgs } from './gitLinks';
import { RunNotebookKind, runNotebookPath } from './runNotebooks';

/** Show an error as a notification. */
export function notifyError(title: string, error: unknown): void {
  Notification.error(`${title}: ${errorMessage(error)}`, {
    autoClose: 10000
  });
}

export class RunWidgets {
  constructor(options: RunWidgets.IOptions) {
    this._app = options.app;
    this._docManager = options.docManager ?? null;
    this._client = options.client;
    this._model = options.model;
    this._trans = options.trans;
    this.actions = this._makeActions();
  }

  /** The open run details (restored by the layout restorer). */
  readonly runTracker = new WidgetTracker<MainAreaWidget<RunDetailWidget>>({
    namespace: 'jupyter-mlops-run'
  });

  readonly compareTracker = new WidgetTracker<MainAreaWidget<CompareWidget>>({
    namespace: 'jupyter-mlops-compare'
  });

  /** What a run detail asks its host for. */
  readonly actions: IRunActions;

  /** Told of each run submitted from this browser (the finish notifications). */
  onRunSubmitted: ((run: IRunSummary) => void) | null = null;

  /** Open (or show again) the detail of a run. */
  openRun(id: string): MainAreaWidget<RunDetailWidget> {
    const { shell } = this._app;
    const trans = this._trans;
    this._model.ensureStarted();
    const existing = this.runTracker.find(w => w.content.runId === id);
    if (existing) {
      shell.activateById(existing.id);
      return existing;
    }
    const content = new RunDetailWidget({
      runId: id,
      client: this._client,
      model: this._model,
      trans,
      actions: this.actions
    });
    const widget = new MainAreaWidget({ content });
    widget.id = `jupyter-mlops-run-${id}`;
    widget.title.icon = mlopsIcon;
    widget.title.label = trans.__('Run %1', shortId(id));
    widget.title.closable = true;
    const retitle = () => {
      const detail = content.detail;
      if (detail) {
        widget.title.label = runLabel(detail);
        widget.title.caption = trans.__(
          'Run %1 of %2 (%3)',
          id,
          detail.notebook,
          detail.status
        );
      }
    };
    this._model.runChanged.connect((_, change) => {
      if (change.id === id) {
        retitle();
      }
    }, widget);
    content.onDeleted = () => widget.dispose();
    void content.reload().then(retitle);
    this._show(widget, this.runTracker);
    return widget;
  }

  /** Open a Compare of these runs. */
  compareRuns(ids: string[]): void {
    this._model.ensureStarted();
    const content = new CompareWidget({
      ids,
      client: this._client,
      model: this._model,
      trans: this._trans,
      onOpen: id => void this.openRun(id)
    });
    const widget = new MainAreaWidget({ content });
    widget.id = `jupyter-mlops-compare-${Date.now()}`;
    widget.title.icon = mlopsIcon;
    widget.title.label = this._trans._n(
      'Compare %1 run',
      'Compare %1 runs',
      ids.length
    );
    widget.title.closable = true;
    this._show(widget, this.compareTracker);
  }

  /** A notification about a run, with a button that opens it. */
  notifyRun(message: string, run: IRunSummary): void {
    Notification.success(message, {
      autoClose: 8000,
      actions: [
        {
          label: this._trans.__('Show run'),
          caption: this._trans.__('Open the detail of run %1', run.id),
          callback: () => void this.openRun(run.id)
        }
      ]
    });
  }

  /** A run started elsewhere (a dialog, a schedule): list it and say so. */
  runStarted(run: IRunSummary, message: string): void {
    this.onRunSubmitted?.(run);
    this._model.ensureStarted();
    this._model.upsert(run);
    this.notifyRun(message, run);
  }

  private _show<T extends MainAreaWidget>(
    widget: T,
    tracker: WidgetTracker<T>
  ): void {
    void tracker.add(widget);
    this._app.shell.add(widget, 'main');
    this._app.shell.activateById(widget.id);
  }

  private _makeActions(): IRunActions {
    const client = this._client;
    const model = this._model;
    const trans = this._trans;
    /** Run an action; on failure say so, and fail (the detail shows it too). */
    const attempt = async <T>(
      failure: string,
      action: () => Promise<T>
    ): Promise<T> => {
      try {
        return await action();
      } catch (error) {
        notifyError(failure, error);
        throw error;
      }
    };
    return {
      cancel: id =>
        attempt(trans.__('Could not cancel run %1', id), async () => {
          model.upsert(await client.cancelRun(id));
        }),
      reproduce: (id, options) =>
        attempt(trans.__('Could not reproduce run %1', id), async () => {
          const run = await client.reproduceRun(id, options);
          this.onRunSubmitted?.(run);
          model.upsert(run);
          this.notifyRun(
            options?.verify
              ? trans.__(
                  'Run %1 reproduces run %2; its verdict shows in its detail when it ends.',
                  shortId(run.id),
                  shortId(id)
                )
              : trans.__(
                  'Run %1 reproduces run %2.',
                  shortId(run.id),
                  shortId(id)
                ),
            run
          );
          this.openRun(run.id);
        }),
      remove: async id => {
        const result = await showDialog({
          title: trans.__('Delete run?'),
          body: trans.__(
            'Delete run %1, its snapshot ref, its executed notebook and its artifacts? This cannot be undone.',
            id
          ),
          buttons: [
            Dialog.cancelButton({ label: trans.__('Cancel') }),
            Dialog.warnButton({ label: trans.__('Delete') })
          ]
        });
        if (!result.button.accept) {
          return false;
        }
        await attempt(trans.__('Could not delete run %1', id), () =>
          client.deleteRun(id)
        );
        model.remove(id);
        return true;
      },
      openRun: id => void this.openRun(id),
      openNotebook: path => {
        void this._app.commands.execute('docmanager:open', { path });
      },
      openExecutedNotebook: run => this._openRunNotebook(run, 'executed'),
      openRunCode: run => this._openRunNotebook(run, 'code'),
      openCommit: (run, sha) => void this._openCommit(run, sha)
    };
  }

  /**
   * Open a run's notebook read-only as a JupyterLab notebook, from the
   * `mlops-run:` drive, without starting a kernel.
   */
  private _openRunNotebook(run: IRunDetail, kind: RunNotebookKind): void {
    const docManager = this._docManager;
    const path = runNotebookPath(run.id, kind, run.notebook);
    if (!docManager) {
      void this._app.commands.execute('docmanager:open', { path });
      return;
    }
    const widget = docManager.openOrReveal(
      path,
      'Notebook',
      undefined,
      { mode: 'tab-after' },
      { shouldStart: false, canStart: false, autoStartDefault: false }
    );
    if (widget) {
      const label =
        kind === 'executed'
          ? this._trans.__(
              '%1 (run %2, executed, read-only)',
              basename(run.notebook),
              shortId(run.id)
            )
          : this._trans.__(
              '%1 (run %2 code, read-only)',
              basename(run.notebook),
              shortId(run.id)
            );
      widget.title.label = label;
      widget.addClass('jp-mlops-run-notebook');
      void widget.context.ready.then(() => {
        widget.context.model.readOnly = true;
        widget.title.label = label;
      });
    }
  }

  /** jupyterlab-git's history of the notebook when installed; else copy. */
  private async _openCommit(run: IRunDetail, sha: string): Promise<void> {
    const commands = this._app.commands;
    if (commands.hasCommand(GIT_FILE_HISTORY)) {
      try {
        await commands.execute(GIT_FILE_HISTORY, gitHistoryArgs(run));
        return;
      } catch (error) {
        console.warn(
          'jupyter-mlops: jupyterlab-git could not show the history',
          error
        );
      }
    }
    Clipboard.copyToSystem(sha);
    Notification.info(this._trans.__('Commit %1 copied.', sha), {
      autoClose: 4000
    });
  }

  private _app: JupyterFrontEnd;
  private _docManager: IDocumentManager | null;
  private _client: MLOpsClient;
  private _model: RunsModel;
  private _trans: TranslationBundle;
}

export namespace RunWidgets {
  export interface IOptions {
    app: JupyterFrontEnd;
    /** Opens run notebooks read-only without a kernel (else plain open). */
    docManager?: IDocumentManager | null;
    client: MLOpsClient;
    model: RunsModel;
    trans: TranslationBundle;
  }
}
