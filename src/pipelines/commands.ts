/**
 * "Run Pipeline" on a pipeline file (.yaml/.yml) in the file browser (a form
 * of each step's parameters), and the main-area view of a pipeline run.
 */
import { JupyterFrontEnd } from '@jupyterlab/application';
import { ICommandPalette, MainAreaWidget } from '@jupyterlab/apputils';
import { IDefaultFileBrowser } from '@jupyterlab/filebrowser';
import { TranslationBundle } from '@jupyterlab/translation';
import type { ReadonlyPartialJSONObject } from '@lumino/coreutils';

import { MLOpsClient } from '../api';
import { mlopsIcon } from '../icons';
import { CommandIDs } from '../ids';
import { notifyError } from '../runWidgets';
import { PipelinesClient } from './api';
import { PipelineListWidget } from './pipelineList';
import { PipelineRunBody, PipelineRunDialog } from './runPipelineDialog';
import { PipelineRunWidget } from './pipelineView';

export const RUN_PIPELINE = 'mlops:run-pipeline';
export const OPEN_PIPELINE = 'mlops:open-pipeline';
export const SHOW_PIPELINES = 'mlops:show-pipelines';
const PIPELINE_SELECTOR = '.jp-DirListing-item[data-file-type="yaml"]';

/** The pipeline file selected in the file browser, if any. */
export function selectedPipeline(
  fileBrowser: IDefaultFileBrowser | null
): string | null {
  for (const item of fileBrowser?.selectedItems() ?? []) {
    if (/\.ya?ml$/i.test(item.path)) {
      return item.path;
    }
  }
  return null;
}

/** The pipeline file a command acts on: its `path` argument, else the selection. */
export function pipelineOf(
  args: ReadonlyPartialJSONObject,
  fileBrowser: IDefaultFileBrowser | null
): string | null {
  return (args.path as string | undefined) ?? selectedPipeline(fileBrowser);
}

export function addPipelineCommands(options: {
  app: JupyterFrontEnd;
  trans: TranslationBundle;
  fileBrowser: IDefaultFileBrowser | null;
  palette: ICommandPalette | null;
}): void {
  const { app, trans, fileBrowser, palette } = options;
  const client = new PipelinesClient(app.serviceManager.serverSettings);
  const notebooks = new MLOpsClient({
    serverSettings: app.serviceManager.serverSettings
  });
  const open = (id: string): void => {
    const existing = Array.from(app.shell.widgets('main')).find(
      w => w.id === `jupyter-mlops-pipeline-${id}`
    );
    if (existing) {
      app.shell.activateById(existing.id);
      return;
    }
    const content = new PipelineRunWidget({
      pipelineId: id,
      client,
      trans,
      onOpen: runId =>
        void app.commands.execute(CommandIDs.openRun, { id: runId })
    });
    const widget = new MainAreaWidget({ content });
    widget.id = `jupyter-mlops-pipeline-${id}`;
    widget.title.icon = mlopsIcon;
    widget.title.label = trans.__('Pipeline %1', id);
    widget.title.closable = true;
    app.shell.add(widget, 'main');
  };

  app.commands.addCommand(OPEN_PIPELINE, {
    label: trans.__('Open Pipeline Run'),
    execute: args => open(args.id as string)
  });

  app.commands.addCommand(SHOW_PIPELINES, {
    label: trans.__('Show Pipeline Runs'),
    caption: trans.__('The pipeline runs, each opening its DAG'),
    execute: () => {
      const id = 'jupyter-mlops-pipelines';
      if (!Array.from(app.shell.widgets('main')).some(w => w.id === id)) {
        const content = new PipelineListWidget({ client, trans, onOpen: open });
        const widget = new MainAreaWidget({ content });
        widget.id = id;
        widget.title.icon = mlopsIcon;
        widget.title.label = trans.__('Pipeline Runs');
        widget.title.closable = true;
        app.shell.add(widget, 'main');
      }
      app.shell.activateById(id);
    }
  });
  palette?.addItem({ command: SHOW_PIPELINES, category: trans.__('MLOps') });

  app.commands.addCommand(RUN_PIPELINE, {
    label: trans.__('Run Pipeline…'),
    caption: trans.__('Run this pipeline file: one run per step, cached'),
    icon: mlopsIcon,
    isVisible: () => selectedPipeline(fileBrowser) !== null,
    execute: async args => {
      const path = pipelineOf(args, fileBrowser);
      if (!path) {
        return;
      }
      const body = new PipelineRunBody({
        path,
        client,
        notebookParameters: nb => notebooks.notebookParameters(nb),
        trans
      });
      const dialog = new PipelineRunDialog({ body, trans });
      try {
        await dialog.launch();
        const run = dialog.run;
        if (run) {
          open(run.id);
        }
      } catch (error) {
        notifyError(trans.__('Could not run the pipeline'), error);
      }
    }
  });

  app.contextMenu.addItem({
    command: RUN_PIPELINE,
    selector: PIPELINE_SELECTOR,
    rank: 3
  });
}
