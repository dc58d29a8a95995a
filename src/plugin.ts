/**
 * The jupyter-mlops front-end plugin: builds the REST client and the run
 * history model (provided to other extensions as {@link IMLOpsRuns}), the
 * two side panels, the run widgets and the commands, from the modules that
 * hold each of them.
 */
import {
  ILayoutRestorer,
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { ICommandPalette, IThemeManager } from '@jupyterlab/apputils';
import { ILauncher } from '@jupyterlab/launcher';
import { IDocumentManager } from '@jupyterlab/docmanager';
import { IDefaultFileBrowser } from '@jupyterlab/filebrowser';
import { ISettingRegistry } from '@jupyterlab/settingregistry';
import { IStateDB } from '@jupyterlab/statedb';
import { ITranslator, nullTranslator } from '@jupyterlab/translation';

import { MLOpsClient } from './api';
import { notifyThemeChanged } from './chart';
import { addCommands } from './commands';
import { notifySettings } from './finishNotices';
import { openFired } from './automationTarget';
import { PipelinesClient } from './pipelines/api';
import { addAutomatePipelineCommand } from './pipelines/automate';
import {
  addPipelineCommands,
  OPEN_PIPELINE,
  SHOW_PIPELINES
} from './pipelines/commands';
import { pipelineRunsSection } from './pipelines/pipelineRunsSection';
import { shortId } from './format';
import { mlopsIcon } from './icons';
import {
  CommandIDs,
  MODELS_PANEL_ID,
  PANEL_ID,
  PLUGIN_ID,
  SCHEDULES_PANEL_ID
} from './ids';
import { compareRestoreName } from './compareRows';
import { RunsModel } from './model';
import { persistPanelState } from './panelState';
import { MLOpsAPIError } from './request';
import { RunAsJobLauncher } from './runAsJobLauncher';
import { RunNotifier } from './runNotifier';
import { RunsPanel } from './runsPanel';
import { RunNotebooksDrive } from './runNotebooks';
import { RunWidgets } from './runWidgets';
import { addRunsTable } from './runsTable';
import { SchedulesPanel, schedulesIcon } from './schedules';
import { SchedulesClient } from './schedulesApi';
import { SchedulesModel } from './schedulesModel';
import { IMLOpsRuns } from './tokens';
import { ModelsClient } from './models/api';
import { ModelsPanel } from './models/panel';

/** State database key of the side panel's metric columns and sort. */
const PANEL_STATE_KEY = `${PLUGIN_ID}:runs-panel`;

/** Log why the server extension cannot be reached (the panels show errors too). */
function checkHealth(client: MLOpsClient): void {
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

/**
 * The jupyter-mlops front-end plugin.
 */
export const mlopsPlugin: JupyterFrontEndPlugin<IMLOpsRuns> = {
  id: PLUGIN_ID,
  description:
    'Turn notebooks into reproducible, tracked jobs with a live run history.',
  autoStart: true,
  provides: IMLOpsRuns,
  optional: [
    ISettingRegistry,
    ITranslator,
    ICommandPalette,
    ILayoutRestorer,
    IDefaultFileBrowser,
    IDocumentManager,
    IStateDB,
    IThemeManager,
    ILauncher
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
    themeManager: IThemeManager | null,
    labLauncher: ILauncher | null
  ): IMLOpsRuns => {
    console.log('JupyterLab extension jupyter-mlops is activated!');
    const trans = (translator ?? nullTranslator).load('jupyter_mlops');
    const serverSettings = app.serviceManager.serverSettings;
    const client = new MLOpsClient({ serverSettings });
    const model = new RunsModel({ client });
    const schedules = new SchedulesModel({
      client: new SchedulesClient(serverSettings)
    });
    // A run's executed notebook and code open read-only from their own drive.
    app.serviceManager.contents.addDrive(
      new RunNotebooksDrive(serverSettings, client)
    );
    const widgets = new RunWidgets({ app, client, model, trans, docManager });
    // Finish notifications live beside the model, not in a panel: they come
    // whether or not the side panel is open.
    const notifier = new RunNotifier({
      model,
      trans,
      openRun: id => void widgets.openRun(id)
    });
    widgets.onRunSubmitted = run => notifier.submitted(run);
    const launcher = new RunAsJobLauncher({
      app,
      client,
      trans,
      widgets,
      schedules,
      docManager
    });

    persistPanelState({
      model,
      pluginId: PLUGIN_ID,
      stateKey: PANEL_STATE_KEY,
      settingRegistry,
      state,
      onSettings: settings => {
        launcher.defaultKernel = settings.defaultKernel ?? '';
        notifier.settings = notifySettings(settings);
      }
    });
    themeManager?.themeChanged.connect(() => notifyThemeChanged());

    addCommands({ app, trans, model, widgets, launcher, fileBrowser, palette });
    addRunsTable({
      app,
      client,
      widgets,
      trans,
      settingRegistry,
      palette,
      restorer,
      launcher: labLauncher
    });
    addPipelineCommands({ app, trans, fileBrowser, palette });
    addAutomatePipelineCommand({ app, trans, fileBrowser });

    // -- side panels -----------------------------------------------------------------
    const panel = new RunsPanel({
      model,
      trans,
      onOpen: id => void widgets.openRun(id),
      onCompare: ids => widgets.compareRuns(ids),
      onOpenTable: () => void app.commands.execute(CommandIDs.openRunsTable),
      pipelineRuns: pipelineRunsSection({
        client: new PipelinesClient(serverSettings),
        trans,
        onOpen: id => void app.commands.execute(OPEN_PIPELINE, { id }),
        onShowAll: () => void app.commands.execute(SHOW_PIPELINES)
      })
    });
    panel.id = PANEL_ID;
    panel.title.icon = mlopsIcon;
    panel.title.caption = trans.__('Job runs');
    panel.onShown = () => model.ensureStarted();
    app.shell.add(panel, 'left', { rank: 650 });

    const schedulesPanel = new SchedulesPanel({
      model: schedules,
      trans,
      onOpen: id =>
        openFired(id, {
          run: runId => void widgets.openRun(runId),
          pipeline: pipelineId =>
            void app.commands.execute(OPEN_PIPELINE, { id: pipelineId })
        }),
      onRunStarted: (run, schedule) =>
        widgets.runStarted(
          run,
          trans.__(
            'Run %1 of schedule "%2" started.',
            shortId(run.id),
            schedule.name
          )
        )
    });
    schedulesPanel.id = SCHEDULES_PANEL_ID;
    schedulesPanel.title.icon = schedulesIcon;
    schedulesPanel.title.caption = trans.__('Job schedules');
    schedulesPanel.onShown = () => model.ensureStarted();
    app.shell.add(schedulesPanel, 'left', { rank: 651 });
    model.runChanged.connect((_, change) =>
      schedules.onRunChanged(change.run, change.id)
    );

    const modelsPanel = new ModelsPanel({
      client: new ModelsClient(serverSettings),
      trans,
      onOpenRun: id => void widgets.openRun(id)
    });
    modelsPanel.id = MODELS_PANEL_ID;
    modelsPanel.title.icon = mlopsIcon;
    modelsPanel.title.caption = trans.__('Registered models');
    app.shell.add(modelsPanel, 'left', { rank: 652 });

    if (restorer) {
      restorer.add(modelsPanel, MODELS_PANEL_ID);
      restorer.add(schedulesPanel, SCHEDULES_PANEL_ID);
      restorer.add(panel, PANEL_ID);
      void restorer.restore(widgets.runTracker, {
        command: CommandIDs.openRun,
        args: widget => ({ id: widget.content.runId }),
        name: widget => widget.content.runId
      });
      void restorer.restore(widgets.compareTracker, {
        command: CommandIDs.compareRuns,
        args: widget => ({ ids: widget.content.ids }),
        name: widget => compareRestoreName(widget.content.ids)
      });
    }

    checkHealth(client);
    return model;
  }
};
