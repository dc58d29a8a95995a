/**
 * The ids other code and extensions refer to: the plugin, the side panels
 * and the commands.
 */

/**
 * Plugin id; also the id of the settings schema in `schema/plugin.json`.
 */
export const PLUGIN_ID = 'jupyter-mlops:plugin';

/** Id of the run history side panel. */
export const PANEL_ID = 'jupyter-mlops-runs';

/** Id of the schedules side panel. */
export const SCHEDULES_PANEL_ID = 'jupyter-mlops-schedules';

/** Id of the Models (registry) side panel. */
export const MODELS_PANEL_ID = 'jupyter-mlops-models';

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
