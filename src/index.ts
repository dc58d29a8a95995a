import {
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { ISettingRegistry } from '@jupyterlab/settingregistry';

import { MLOpsAPIError, requestAPI } from './api';

export { MLOpsAPIError, requestAPI } from './api';

/**
 * Plugin id; also the id of the settings schema in `schema/plugin.json`.
 */
export const PLUGIN_ID = 'jupyter-mlops:plugin';

/**
 * Shape of the `GET /mlops/api/health` answer (extra fields are allowed).
 */
export interface IHealthResponse {
  status: string;
  version?: string;
  [key: string]: unknown;
}

/**
 * The jupyter-mlops front-end plugin.
 */
const plugin: JupyterFrontEndPlugin<void> = {
  id: PLUGIN_ID,
  description:
    'Turn notebooks into reproducible, tracked jobs with a live run history.',
  autoStart: true,
  optional: [ISettingRegistry],
  activate: (
    app: JupyterFrontEnd,
    settingRegistry: ISettingRegistry | null
  ): void => {
    console.log('JupyterLab extension jupyter-mlops is activated!');

    if (settingRegistry) {
      settingRegistry
        .load(plugin.id)
        .then(settings => {
          console.log('jupyter-mlops settings loaded:', settings.composite);
        })
        .catch(reason => {
          console.error('Failed to load settings for jupyter-mlops.', reason);
        });
    }

    requestAPI<IHealthResponse>('health')
      .then(data => {
        console.log('jupyter-mlops server health:', data);
      })
      .catch(reason => {
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
