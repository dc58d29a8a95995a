import {
  ILayoutRestorer,
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import {
  Dialog,
  ICommandPalette,
  IThemeManager,
  MainAreaWidget,
  Notification,
  showDialog,
  WidgetTracker
} from '@jupyterlab/apputils';
import { IDocumentManager } from '@jupyterlab/docmanager';
import { DocumentRegistry, IDocumentWidget } from '@jupyterlab/docregistry';
import { IDefaultFileBrowser } from '@jupyterlab/filebrowser';
import { ISettingRegistry } from '@jupyterlab/settingregistry';
import { IStateDB } from '@jupyterlab/statedb';
import { ITranslator, nullTranslator } from '@jupyterlab/translation';
import { ToolbarButton } from '@jupyterlab/ui-components';
import { DisposableDelegate, IDisposable } from '@lumino/disposable';

import { IHealth, IRunSummary, MLOpsAPIError, MLOpsClient } from './api';
import { RunJobBody, RunJobDialog } from './runAsJob';
import { basename } from './format';
import { mlopsIcon } from './icons';
import { DEFAULT_SORT, IRunSort, parseColumns, RunsModel } from './model';
import { CompareWidget } from './compare';
import { notifyThemeChanged } from './chart';
import { IRunActions, RunDetailWidget } from './runDetail';
import { RunsPanel } from './runsPanel';
import {
  notifyScheduleCreated,
  SchedulesModel,
  SchedulesPanel,
  schedulesIcon
} from './schedules';
import { SchedulesClient } from './schedulesApi';

export * from './api';
export { RunsModel } from './model';
export { RunMetrics } from './metrics';

/**
 * Plugin id; also the id of the settings schema in `schema/plugin.json`.
 */
export const PLUGIN_ID = 'jupyter-mlops:plugin';

/** Id of the run history side panel. */
export const PANEL_ID = 'jupyter-mlops-runs';

/** Id of the schedules side panel. */
export const SCHEDULES_PANEL_ID = 'jupyter-mlops-schedules';

/** Command ids. */
export namespace CommandIDs {
  /** Run a notebook as a job (`path` arg, else the current notebook). */
  export const runAsJob = 'mlops:run-as-job';
  /** Run the notebook selected in the file browser as a job. */
  export const runSelectedAsJob = 'mlops:run-selected-as-job';
  /** Show the run history panel. */
  export const showRuns = 'mlops:show-runs';
  /** Open the detail of a run (`id` arg). */
  export const openRun = 'mlops:open-run';
  /** Compare runs (`ids` arg, else the panel's selection). */
  export const compareRuns = 'mlops:compare-runs';
  /** Reload the run list. */
  export const refreshRuns = 'mlops:refresh-runs';
  /** Show the schedules panel. */
  export const showSchedules = 'mlops:show-schedules';
}

/** Shape of the `GET /mlops/api/health` answer (kept for compatibility). */
export type IHealthResponse = IHealth;

const NOTEBOOK_SELECTOR = '.jp-DirListing-item[data-file-type="notebook"]';

/** State database key of the side panel's metric columns and sort. */
const PANEL_STATE_KEY = `${PLUGIN_ID}:runs-panel`;

/** What the side panel remembers across reloads. */
interface IPanelState {
  columns: string[];
  sort: IRunSort;
}

/**
 * The jupyter-mlops front-end plugin.
 */
const plugin: JupyterFrontEndPlugin<void> = {
  id: PLUGIN_ID,
  description:
    'Turn notebooks into reproducible, tracked jobs with a live run history.',
  autoStart: true,
  optional: [
    ISettingRegistry,
    ITranslator,
    ICommandPalette,
    ILayoutRestorer,
    IDefaultFileBrowser,
    IDocumentManager,
    IStateDB,
    IThemeManager
  ],
  activate: (
    app: JupyterFrontEnd,
    settingRegistry: ISettingRegistry | null,
    translator: ITranslator | null,
    palette: ICommandPalette | null,
    restorer: ILayoutRestorer | null,
    fileBrowser: IDefaultFileBrowser | null,
    docManager: IDocumentManager | null,
    state: IStateDB | null,
    themeManager: IThemeManager | null
  ): void => {
    console.log('JupyterLab extension jupyter-mlops is activated!');
    const trans = (translator ?? nullTranslator).load('jupyter_mlops');
    const { commands, shell } = app;

    const client = new MLOpsClient({
      serverSettings: app.serviceManager.serverSettings
    });
    const model = new RunsModel({ client });
    let defaultKernel = '';
    let started = false;
    const ensureStarted = () => {
      if (!started) {
        started = true;
        void model.start();
      }
    };

    // -- settings --------------------------------------------------------------------
    /**
     * The metric columns live in the settings when the schema has a
     * `metricColumns` property, else (and the sort always) in the state
     * database, so they survive reloads either way.
     */
    let columnSettings: ISettingRegistry.ISettings | null = null;
    const saved: IPanelState = { columns: [], sort: { ...DEFAULT_SORT } };
    if (settingRegistry) {
      const apply = (settings: ISettingRegistry.ISettings) => {
        const composite = settings.composite as {
          refreshInterval?: number;
          defaultKernel?: string;
          pageSize?: number;
          metricColumns?: string[];
        };
        model.refreshInterval = composite.refreshInterval ?? 5;
        model.pageSize = composite.pageSize ?? 25;
        defaultKernel = composite.defaultKernel ?? '';
        if (columnSettings && Array.isArray(composite.metricColumns)) {
          saved.columns = parseColumns(composite.metricColumns);
          void model.setMetricColumns(saved.columns);
        }
      };
      settingRegistry
        .load(plugin.id)
        .then(settings => {
          if (settings.schema.properties?.metricColumns) {
            columnSettings = settings;
          }
          apply(settings);
          settings.changed.connect(apply);
        })
        .catch(reason => {
          console.error('Failed to load settings for jupyter-mlops.', reason);
        });
    }
    if (state) {
      state
        .fetch(PANEL_STATE_KEY)
        .then(value => {
          const stored = (value ?? {}) as Partial<IPanelState>;
          if (!columnSettings && Array.isArray(stored.columns)) {
            saved.columns = parseColumns(stored.columns);
            void model.setMetricColumns(saved.columns);
          }
          if (stored.sort && typeof stored.sort.key === 'string') {
            saved.sort = { ...stored.sort };
            model.setSort(stored.sort);
          }
        })
        .catch(reason => {
          console.warn(
            'jupyter-mlops: could not restore the panel state',
            reason
          );
        });
    }
    model.changed.connect(() => {
      const columns = [...model.metricColumns];
      const sort = { ...model.sort };
      const columnsChanged = columns.join('\n') !== saved.columns.join('\n');
      const sortChanged =
        sort.key !== saved.sort.key || sort.order !== saved.sort.order;
      if (!columnsChanged && !sortChanged) {
        return;
      }
      saved.columns = columns;
      saved.sort = sort;
      if (columnsChanged && columnSettings) {
        void columnSettings.set('metricColumns', columns).catch(reason => {
          console.warn('jupyter-mlops: could not save the columns', reason);
        });
      }
      if (state) {
        const value = {
          columns: columnSettings ? [] : columns,
          sort: { key: sort.key, order: sort.order }
        };
        void state.save(PANEL_STATE_KEY, value).catch(reason => {
          console.warn('jupyter-mlops: could not save the panel state', reason);
        });
      }
    });
    themeManager?.themeChanged.connect(() => notifyThemeChanged());

    // -- run detail and compare widgets ----------------------------------------------------
    const runTracker = new WidgetTracker<MainAreaWidget<RunDetailWidget>>({
      namespace: 'jupyter-mlops-run'
    });
    const compareTracker = new WidgetTracker<MainAreaWidget<CompareWidget>>({
      namespace: 'jupyter-mlops-compare'
    });

    const openRun = (id: string): MainAreaWidget<RunDetailWidget> => {
      ensureStarted();
      const existing = runTracker.find(w => w.content.runId === id);
      if (existing) {
        shell.activateById(existing.id);
        return existing;
      }
      const content = new RunDetailWidget({
        runId: id,
        client,
        model,
        trans,
        actions
      });
      const widget = new MainAreaWidget({ content });
      widget.id = `jupyter-mlops-run-${id}`;
      widget.title.icon = mlopsIcon;
      widget.title.label = trans.__('Run %1', id.slice(0, 8));
      widget.title.closable = true;
      const retitle = () => {
        const detail = content.detail;
        if (detail) {
          widget.title.label = `${basename(detail.notebook)} · ${id.slice(0, 8)}`;
          widget.title.caption = trans.__(
            'Run %1 of %2 (%3)',
            id,
            detail.notebook,
            detail.status
          );
        }
      };
      model.runChanged.connect((_, change) => {
        if (change.id === id) {
          retitle();
        }
      }, widget);
      content.onDeleted = () => widget.dispose();
      void content.reload().then(retitle);
      void runTracker.add(widget);
      shell.add(widget, 'main');
      shell.activateById(widget.id);
      return widget;
    };

    const compareRuns = (ids: string[]) => {
      ensureStarted();
      const content = new CompareWidget({
        ids,
        client,
        model,
        trans,
        onOpen: id => void openRun(id)
      });
      const widget = new MainAreaWidget({ content });
      widget.id = `jupyter-mlops-compare-${Date.now()}`;
      widget.title.icon = mlopsIcon;
      widget.title.label = trans._n(
        'Compare %1 run',
        'Compare %1 runs',
        ids.length
      );
      widget.title.closable = true;
      void compareTracker.add(widget);
      shell.add(widget, 'main');
      shell.activateById(widget.id);
    };

    const showRunNotification = (message: string, run: IRunSummary): void => {
      Notification.success(message, {
        autoClose: 8000,
        actions: [
          {
            label: trans.__('Show run'),
            caption: trans.__('Open the detail of run %1', run.id),
            callback: () => void openRun(run.id)
          }
        ]
      });
    };

    const notifyError = (title: string, error: unknown) => {
      Notification.error(`${title}: ${RunsModel.errorMessage(error)}`, {
        autoClose: 10000
      });
    };

    const actions: IRunActions = {
      cancel: async id => {
        try {
          model.upsert(await client.cancelRun(id));
        } catch (error) {
          notifyError(trans.__('Could not cancel run %1', id), error);
          throw error;
        }
      },
      reproduce: async id => {
        try {
          const run = await client.reproduceRun(id);
          model.upsert(run);
          showRunNotification(
            trans.__(
              'Run %1 reproduces run %2.',
              run.id.slice(0, 8),
              id.slice(0, 8)
            ),
            run
          );
          openRun(run.id);
        } catch (error) {
          notifyError(trans.__('Could not reproduce run %1', id), error);
          throw error;
        }
      },
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
        try {
          await client.deleteRun(id);
        } catch (error) {
          notifyError(trans.__('Could not delete run %1', id), error);
          throw error;
        }
        model.remove(id);
        return true;
      },
      openRun: id => void openRun(id),
      openNotebook: path => {
        void commands.execute('docmanager:open', { path });
      }
    };

    // -- run as job ----------------------------------------------------------------------
    const localPath = (path: string) =>
      app.serviceManager.contents.localPath(path);

    /** The document widget of the current notebook, if the current widget is one. */
    const currentNotebook = (): IDocumentWidget | null => {
      const widget = shell.currentWidget as IDocumentWidget | null;
      const context = widget?.context as DocumentRegistry.Context | undefined;
      if (
        context &&
        typeof context.path === 'string' &&
        context.path.endsWith('.ipynb')
      ) {
        return widget;
      }
      return null;
    };

    const selectedNotebook = (): string | null => {
      if (!fileBrowser) {
        return null;
      }
      for (const item of fileBrowser.selectedItems()) {
        if (item.type === 'notebook') {
          return item.path;
        }
      }
      return null;
    };

    /** Offer to save unsaved changes (the job runs the file on disk); false: abort. */
    const ensureSaved = async (path: string): Promise<boolean> => {
      const widget = docManager?.findWidget(path) ?? currentNotebook();
      const context = widget?.context;
      if (!context || context.path !== path || !context.model.dirty) {
        return true;
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
    };

    const runAsJob = async (rawPath: string): Promise<void> => {
      if (!(await ensureSaved(rawPath))) {
        return;
      }
      const path = localPath(rawPath);
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
        defaultKernel,
        trans,
        scheduling: true
      });
      const dialog = new RunJobDialog({
        body,
        trans,
        submit: request => client.submitRun(request),
        createSchedule: request => schedulesModel.client.create(request)
      });
      await dialog.launch();
      const schedule = dialog.schedule;
      if (schedule) {
        schedulesModel.add(schedule);
        notifyScheduleCreated(schedule, trans, () =>
          shell.activateById(SCHEDULES_PANEL_ID)
        );
      }
      const run = dialog.run;
      if (run) {
        ensureStarted();
        model.upsert(run);
        showRunNotification(
          trans.__(
            'Run %1 of "%2" is %3.',
            run.id.slice(0, 8),
            basename(path),
            run.status
          ),
          run
        );
      }
    };

    commands.addCommand(CommandIDs.runAsJob, {
      label: trans.__('Run Notebook as Job…'),
      caption: trans.__(
        'Run the saved notebook as a tracked job with parameters, a kernel and GPUs'
      ),
      icon: args => (args.toolbar ? mlopsIcon : undefined),
      isEnabled: args => !!args.path || currentNotebook() !== null,
      execute: async args => {
        const path =
          (args.path as string | undefined) ?? currentNotebook()?.context.path;
        if (path) {
          await runAsJob(path);
        }
      }
    });

    commands.addCommand(CommandIDs.runSelectedAsJob, {
      label: trans.__('Run as Job…'),
      caption: trans.__('Run this notebook as a tracked job'),
      icon: mlopsIcon,
      isVisible: () => selectedNotebook() !== null,
      execute: async () => {
        const path = selectedNotebook();
        if (path) {
          await runAsJob(path);
        }
      }
    });

    commands.addCommand(CommandIDs.showRuns, {
      label: trans.__('Show Job Runs'),
      caption: trans.__('Show the run history'),
      execute: () => {
        ensureStarted();
        shell.activateById(PANEL_ID);
      }
    });

    commands.addCommand(CommandIDs.openRun, {
      label: args =>
        args.id
          ? trans.__('Open Run %1', args.id as string)
          : trans.__('Open Run'),
      execute: args => {
        const id = args.id as string | undefined;
        if (id) {
          openRun(id);
        }
      }
    });

    commands.addCommand(CommandIDs.compareRuns, {
      label: trans.__('Compare Selected Runs'),
      isEnabled: args =>
        ((args.ids as string[] | undefined) ?? model.selected).length >= 2,
      execute: args => {
        const ids = (args.ids as string[] | undefined) ?? [...model.selected];
        if (ids.length >= 2) {
          compareRuns(ids);
        }
      }
    });

    commands.addCommand(CommandIDs.refreshRuns, {
      label: trans.__('Refresh Job Runs'),
      execute: () => {
        ensureStarted();
        return model.refresh();
      }
    });

    if (palette) {
      const category = trans.__('MLOps');
      for (const command of [
        CommandIDs.runAsJob,
        CommandIDs.showRuns,
        CommandIDs.compareRuns,
        CommandIDs.refreshRuns
      ]) {
        palette.addItem({ command, category });
      }
    }

    app.contextMenu.addItem({
      command: CommandIDs.runSelectedAsJob,
      selector: NOTEBOOK_SELECTOR,
      rank: 3
    });

    // Notebook toolbar button.
    app.docRegistry.addWidgetExtension('Notebook', {
      createNew: (
        widget: IDocumentWidget,
        context: DocumentRegistry.IContext<DocumentRegistry.IModel>
      ): IDisposable => {
        const button = new ToolbarButton({
          className: 'jp-mlops-toolbar-run',
          icon: mlopsIcon,
          label: trans.__('Run as job'),
          tooltip: trans.__('Run the saved notebook as a tracked job'),
          onClick: () => {
            void commands.execute(CommandIDs.runAsJob, { path: context.path });
          }
        });
        if (!widget.toolbar.insertAfter('cellType', 'mlopsRunAsJob', button)) {
          widget.toolbar.insertItem(10, 'mlopsRunAsJob', button);
        }
        return new DisposableDelegate(() => button.dispose());
      }
    });

    // -- side panel ----------------------------------------------------------------------
    const panel = new RunsPanel({
      model,
      trans,
      onOpen: id => void openRun(id),
      onCompare: ids => compareRuns(ids)
    });
    panel.id = PANEL_ID;
    panel.title.icon = mlopsIcon;
    panel.title.caption = trans.__('Job runs');
    panel.onShown = ensureStarted;
    shell.add(panel, 'left', { rank: 650 });

    // -- schedules panel -----------------------------------------------------------------
    const schedulesModel = new SchedulesModel({
      client: new SchedulesClient(app.serviceManager.serverSettings)
    });
    const schedulesPanel = new SchedulesPanel({
      model: schedulesModel,
      trans,
      onOpen: id => void openRun(id),
      onRunStarted: (run, schedule) => {
        ensureStarted();
        model.upsert(run);
        showRunNotification(
          trans.__(
            'Run %1 of schedule "%2" started.',
            run.id.slice(0, 8),
            schedule.name
          ),
          run
        );
      }
    });
    schedulesPanel.id = SCHEDULES_PANEL_ID;
    schedulesPanel.title.icon = schedulesIcon;
    schedulesPanel.title.caption = trans.__('Job schedules');
    schedulesPanel.onShown = ensureStarted;
    shell.add(schedulesPanel, 'left', { rank: 651 });
    model.runChanged.connect((_, change) =>
      schedulesModel.onRunChanged(change.run, change.id)
    );
    commands.addCommand(CommandIDs.showSchedules, {
      label: trans.__('Show Job Schedules'),
      caption: trans.__('Show the cron schedules of notebooks'),
      execute: () => shell.activateById(SCHEDULES_PANEL_ID)
    });
    palette?.addItem({
      command: CommandIDs.showSchedules,
      category: trans.__('MLOps')
    });
    restorer?.add(schedulesPanel, SCHEDULES_PANEL_ID);

    if (restorer) {
      restorer.add(panel, PANEL_ID);
      void restorer.restore(runTracker, {
        command: CommandIDs.openRun,
        args: widget => ({ id: widget.content.runId }),
        name: widget => widget.content.runId
      });
    }

    client.health().catch(reason => {
      if (reason instanceof MLOpsAPIError) {
        console.error(
          `The jupyter-mlops server extension is not reachable (HTTP ${reason.status}): ${reason.message}`
        );
      } else {
        console.error('jupyter-mlops health check failed.', reason);
      }
    });
  }
};

export default plugin;
