/**
 * What the run history remembers across reloads: its settings (refresh
 * interval, page size, default kernel) and its metric columns and sort.
 *
 * The metric columns live in the settings when the schema has a
 * `metricColumns` property, else (and the sort always) in the state
 * database, so they survive reloads either way.
 */
import { ISettingRegistry } from '@jupyterlab/settingregistry';
import { IStateDB } from '@jupyterlab/statedb';

import type { RunsModel } from './model';
import { DEFAULT_SORT, IRunSort, parseColumns } from './runList';

/** What the side panel remembers across reloads. */
interface IPanelState {
  columns: string[];
  sort: IRunSort;
}

/** The settings of `schema/plugin.json` that the frontend reads. */
export interface IMLOpsSettings {
  refreshInterval?: number;
  defaultKernel?: string;
  pageSize?: number;
  metricColumns?: string[];
  notifications?: boolean;
  notificationScope?: 'mine' | 'all';
}

/**
 * Keep the model's settings, columns and sort in the settings and the state
 * database. `onSettings` is told each new value of the settings.
 */
export function persistPanelState(options: {
  model: RunsModel;
  pluginId: string;
  stateKey: string;
  settingRegistry: ISettingRegistry | null;
  state: IStateDB | null;
  onSettings: (settings: IMLOpsSettings) => void;
}): void {
  const { model, pluginId, stateKey, settingRegistry, state } = options;
  let columnSettings: ISettingRegistry.ISettings | null = null;
  const saved: IPanelState = { columns: [], sort: { ...DEFAULT_SORT } };
  const restoreColumns = (columns: string[]) => {
    saved.columns = parseColumns(columns);
    void model.setMetricColumns(saved.columns);
  };

  if (settingRegistry) {
    const apply = (settings: ISettingRegistry.ISettings) => {
      const composite = settings.composite as IMLOpsSettings;
      model.refreshInterval = composite.refreshInterval ?? 5;
      model.pageSize = composite.pageSize ?? 25;
      options.onSettings(composite);
      if (columnSettings && Array.isArray(composite.metricColumns)) {
        restoreColumns(composite.metricColumns);
      }
    };
    settingRegistry
      .load(pluginId)
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
      .fetch(stateKey)
      .then(value => {
        const stored = (value ?? {}) as Partial<IPanelState>;
        if (!columnSettings && Array.isArray(stored.columns)) {
          restoreColumns(stored.columns);
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
      void state.save(stateKey, value).catch(reason => {
        console.warn('jupyter-mlops: could not save the panel state', reason);
      });
    }
  });
}
