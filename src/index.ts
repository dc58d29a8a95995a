/**
 * jupyter-mlops's frontend: the plugins JupyterLab loads, and what other
 * extensions may use (the {@link IMLOpsRuns} token, the REST clients, the
 * ids of the commands and panels).
 */
import { mlopsPlugin } from './plugin';

export * from './api';
export {
  API_NAMESPACE,
  errorMessage,
  MLOpsAPIError,
  queryString,
  requestAPI
} from './request';
export { isActive, isNewer, RUN_STATUSES } from './status';
export { CommandIDs, PANEL_ID, PLUGIN_ID, SCHEDULES_PANEL_ID } from './ids';
export { IMLOpsRuns } from './tokens';
export { RunsModel } from './model';
export type { ConnectionState, IRunChange } from './model';
export { RunMetrics } from './runMetrics';
export { SchedulesClient } from './schedulesApi';
export { SchedulesModel } from './schedulesModel';

export default [mlopsPlugin];
