/**
 * The runs table's place in JupyterLab: the command that opens it in the main
 * area (one instance, restored on reload), its columns kept in the
 * extension's settings (`runsTableColumns`), and what its buttons do.
 */
import { ILayoutRestorer, JupyterFrontEnd } from '@jupyterlab/application';
import {
  Dialog,
  ICommandPalette,
  MainAreaWidget,
  Notification,
  showDialog,
  WidgetTracker
} from '@jupyterlab/apputils';
import { ILauncher } from '@jupyterlab/launcher';
import { ISettingRegistry } from '@jupyterlab/settingregistry';
import { TranslationBundle } from '@jupyterlab/translation';
import { tableRowsIcon } from '@jupyterlab/ui-components';

import type { MLOpsClient } from '../api';
import { CommandIDs, PLUGIN_ID } from '../ids';
import { errorMessage } from '../request';
import type { RunWidgets } from '../runWidgets';
import { RunsTableModel } from './model';
import { IRunsTableActions, RunsTableWidget } from './widget';

/** Settings key of the shown columns. */
export const COLUMNS_SETTING = 'runsTableColumns';

export interface IRunsTableOptions {
  app: JupyterFrontEnd;
  client: MLOpsClient;
  widgets: RunWidgets;
  trans: TranslationBundle;
  settingRegistry: ISettingRegistry | null;
  palette: ICommandPalette | null;
  restorer: ILayoutRestorer | null;
  /** The Launcher gets a "Runs Table" card when there is one. */
  launcher?: ILauncher | null;
}

/** Run `action` on each id; one notification lists what failed. */
async function eachRun(
  ids: string[],
  action: (id: string) => Promise<unknown>,
  title: string
): Promise<void> {
  const failures: string[] = [];
  for (const id of ids) {
    try {
      await action(id);
    } catch (error) {
      failures.push(`${id.slice(0, 8)}: ${errorMessage(error)}`);
    }
  }
  if (failures.length) {
    Notification.error(`${title}: ${failures.join('; ')}`, {
      autoClose: 10000
    });
  }
}

function tableActions(options: IRunsTableOptions): IRunsTableActions {
  const { client, widgets, trans } = options;
  return {
    open: id => void widgets.openRun(id),
    compare: ids => widgets.compareRuns(ids),
    cancel: ids =>
      eachRun(ids, id => client.cancelRun(id), trans.__('Could not cancel')),
    remove: async ids => {
      const answer = await showDialog({
        title: trans._n('Delete %1 run?', 'Delete %1 runs?', ids.length),
        body: trans.__(
          'Their records, snapshot refs and run directories go; this cannot be undone.'
        ),
        buttons: [
          Dialog.cancelButton({ label: trans.__('Keep') }),
          Dialog.warnButton({ label: trans.__('Delete') })
        ]
      });
      if (answer.button.accept) {
        await eachRun(
          ids,
          id => client.deleteRun(id),
          trans.__('Could not delete')
        );
      }
    }
  };
}

/** Keep the model's columns and the settings in step, both ways. */
function bindColumns(
  model: RunsTableModel,
  registry: ISettingRegistry | null
): void {
  if (!registry) {
    return;
  }
  void registry
    .load(PLUGIN_ID)
    .then(settings => {
      const apply = () =>
        model.restoreColumns(settings.composite[COLUMNS_SETTING]);
      apply();
      settings.changed.connect(apply);
      model.onColumnsChanged = columns => {
        void settings.set(COLUMNS_SETTING, columns).catch(reason => {
          console.error(
            'jupyter-mlops: could not save the table columns.',
            reason
          );
        });
      };
    })
    .catch(reason => {
      console.error(
        'jupyter-mlops: could not load the table settings.',
        reason
      );
    });
}

/** Register the command (palette, and the side panel's button calls it). */
export function addRunsTable(options: IRunsTableOptions): void {
  const { app, client, trans, palette, restorer } = options;
  const tracker = new WidgetTracker<MainAreaWidget<RunsTableWidget>>({
    namespace: 'jupyter-mlops-runs-table'
  });
  const model = new RunsTableModel({ client });
  bindColumns(model, options.settingRegistry);
  const actions = tableActions(options);

  app.commands.addCommand(CommandIDs.openRunsTable, {
    label: trans.__('Runs Table'),
    caption: trans.__('Every run in a table: sort, filter, compare'),
    icon: tableRowsIcon,
    execute: async () => {
      const open = tracker.currentWidget ?? tracker.find(() => true);
      if (open && !open.isDisposed) {
        app.shell.activateById(open.id);
        return open;
      }
      const content = new RunsTableWidget({ model, actions, trans });
      const widget = new MainAreaWidget({ content });
      widget.id = 'jupyter-mlops-runs-table';
      widget.title.label = trans.__('Runs');
      widget.title.icon = tableRowsIcon;
      widget.title.closable = true;
      app.shell.add(widget, 'main');
      await tracker.add(widget);
      void model.load();
      return widget;
    }
  });
  palette?.addItem({
    command: CommandIDs.openRunsTable,
    category: 'jupyter-mlops'
  });
  options.launcher?.add({
    command: CommandIDs.openRunsTable,
    category: 'jupyter-mlops',
    rank: 1
  });
  if (restorer) {
    void restorer.restore(tracker, {
      command: CommandIDs.openRunsTable,
      name: () => 'runs-table'
    });
  }
}
