/**
 * "Register" on a model artifact of a run (the run detail's artifact table):
 * asks for the model's name and registers the artifact as its next version.
 */
import { InputDialog, Notification } from '@jupyterlab/apputils';
import { TranslationBundle } from '@jupyterlab/translation';
import * as React from 'react';

import type { APIClient } from '../request';
import { errorMessage } from '../request';
import { ModelsClient } from './api';

export function RegisterModelButton(props: {
  runId: string;
  artifact: string;
  client: APIClient;
  trans: TranslationBundle;
}): JSX.Element {
  const { trans } = props;
  const register = async () => {
    const answer = await InputDialog.getText({
      title: trans.__('Register %1 as a model version', props.artifact),
      label: trans.__('Model name'),
      text: ''
    });
    const name = answer.button.accept ? answer.value?.trim() : '';
    if (!name) {
      return;
    }
    try {
      const models = new ModelsClient(props.client.serverSettings);
      const version = await models.register(props.runId, props.artifact, name);
      Notification.success(trans.__('Registered %1', version.uri), {
        autoClose: 5000
      });
    } catch (reason) {
      Notification.error(errorMessage(reason), { autoClose: false });
    }
  };
  return (
    <button
      className="jp-mod-styled jp-mlops-register-artifact"
      title={trans.__('Register this model as a new version of a named model')}
      onClick={() => void register()}
    >
      {trans.__('Register')}
    </button>
  );
}
