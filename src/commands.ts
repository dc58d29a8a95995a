/**
 * The commands of jupyter-mlops, where they appear (palette, file browser
 * context menu) and the notebook toolbar's "Run as job" button.
 */
import { JupyterFrontEnd } from '@jupyterlab/application';
import { ICommandPalette } from '@jupyterlab/apputils';
import { DocumentRegistry, IDocumentWidget } from '@jupyterlab/docregistry';
import { IDefaultFileBrowser } from '@jupyterlab/filebrowser';
import { TranslationBundle } from '@jupyterlab/translation';
import { ToolbarButton } from '@jupyterlab/ui-components';
import { DisposableDelegate, IDisposable } from '@lumino/disposable';

import { mlopsIcon } from './icons';
import { CommandIDs, PANEL_ID, SCHEDULES_PANEL_ID } from './ids';
import type { RunsModel } from './model';
import { RunAsJobLauncher } from './runAsJobLauncher';
import { RunWidgets } from './runWidgets';

const NOTEBOOK_SELECTOR = '.jp-DirListing-item[data-file-type="notebook"]';

/** The commands shown in the palette, under "MLOps". */
const PALETTE_COMMANDS = [
  CommandIDs.runAsJob,
  CommandIDs.showRuns,
  CommandIDs.compareRuns,
  CommandIDs.refreshRuns,
  CommandIDs.showSchedules
];

export interface ICommandsOptions {
  app: JupyterFrontEnd;
  trans: TranslationBundle;
  model: RunsModel;
  widgets: RunWidgets;
  launcher: RunAsJobLauncher;
  fileBrowser: IDefaultFileBrowser | null;
  palette: ICommandPalette | null;
}

/** The notebook selected in the file browser, if any. */
function selectedNotebook(
  fileBrowser: IDefaultFileBrowser | null
): string | null {
  if (!fileBrowser) {
    return null;
  }
  for (const item of fileBrowser.selectedItems()) {
    if (item.type === 'notebook') {
      return item.path;
    }
  }
  return null;
}

/** Add the commands, their palette and context-menu items, and the toolbar button. */
export function addCommands(options: ICommandsOptions): void {
  const { app, trans, model, widgets, launcher, fileBrowser } = options;
  const { commands, shell } = app;

  commands.addCommand(CommandIDs.runAsJob, {
    label: trans.__('Run Notebook as Job…'),
    caption: trans.__(
      'Run the saved notebook as a tracked job with parameters, a kernel and GPUs'
    ),
    icon: args => (args.toolbar ? mlopsIcon : undefined),
    isEnabled: args => !!args.path || launcher.currentNotebook() !== null,
    execute: async args => {
      const path =
        (args.path as string | undefined) ??
        launcher.currentNotebook()?.context.path;
      if (path) {
        await launcher.run(path);
      }
    }
  });

  commands.addCommand(CommandIDs.runSelectedAsJob, {
    label: trans.__('Run as Job…'),
    caption: trans.__('Run this notebook as a tracked job'),
    icon: mlopsIcon,
    isVisible: () => selectedNotebook(fileBrowser) !== null,
    execute: async () => {
      const path = selectedNotebook(fileBrowser);
      if (path) {
        await launcher.run(path);
      }
    }
  });

  commands.addCommand(CommandIDs.showRuns, {
    label: trans.__('Show Job Runs'),
    caption: trans.__('Show the run history'),
    execute: () => {
      model.ensureStarted();
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
        widgets.openRun(id);
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
        widgets.compareRuns(ids);
      }
    }
  });

  commands.addCommand(CommandIDs.refreshRuns, {
    label: trans.__('Refresh Job Runs'),
    execute: () => {
      model.ensureStarted();
      return model.refresh();
    }
  });

  commands.addCommand(CommandIDs.showSchedules, {
    label: trans.__('Show Job Schedules'),
    caption: trans.__('Show the cron schedules of notebooks'),
    execute: () => shell.activateById(SCHEDULES_PANEL_ID)
  });

  const category = trans.__('MLOps');
  for (const command of PALETTE_COMMANDS) {
    options.palette?.addItem({ command, category });
  }

  app.contextMenu.addItem({
    command: CommandIDs.runSelectedAsJob,
    selector: NOTEBOOK_SELECTOR,
    rank: 3
  });

  addToolbarButton(app, trans);
}

/** The notebook toolbar's "Run as job" button (after the cell type picker). */
function addToolbarButton(
  app: JupyterFrontEnd,
  trans: TranslationBundle
): void {
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
          void app.commands.execute(CommandIDs.runAsJob, {
            path: context.path
          });
        }
      });
      if (!widget.toolbar.insertAfter('cellType', 'mlopsRunAsJob', button)) {
        widget.toolbar.insertItem(10, 'mlopsRunAsJob', button);
      }
      return new DisposableDelegate(() => button.dispose());
    }
  });
}
