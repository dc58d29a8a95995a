/**
 * "Run Pipeline on Each Commit…" on a pipeline file in the file browser: an
 * on-commit trigger whose target is the pipeline (`POST triggers` with
 * `pipeline`), so each new commit of the branch starts a pipeline run from
 * exactly that commit. A separate command next to "Run Pipeline…" (whose
 * dialog stays as it is); the trigger is listed in the Schedules panel.
 */
import { JupyterFrontEnd } from '@jupyterlab/application';
import { Dialog, Notification, showDialog } from '@jupyterlab/apputils';
import { TranslationBundle } from '@jupyterlab/translation';
import { ReactWidget } from '@jupyterlab/ui-components';
import * as React from 'react';

import { mlopsIcon } from '../icons';
import { notifyError } from '../runWidgets';
import {
  ITriggerFormState,
  TriggerSection,
  checkTriggerForm,
  initialTriggerState
} from '../triggerForm';
import { TriggersClient } from '../triggersApi';
import { pipelineTriggerRequest } from './automateRequest';
import { pipelineOf, selectedPipeline } from './commands';

export const AUTOMATE_PIPELINE = 'mlops:automate-pipeline';

class AutomateBody extends ReactWidget {
  constructor(private readonly trans: TranslationBundle) {
    super();
    this.addClass('jp-mlops-automate-pipeline');
  }

  state: ITriggerFormState = { ...initialTriggerState(), enabled: true };

  getValue(): ITriggerFormState {
    return this.state;
  }

  protected render(): JSX.Element {
    return (
      <TriggerSection
        state={this.state}
        errors={checkTriggerForm(this.state, this.trans, false)}
        serverError={null}
        disabled={false}
        trans={this.trans}
        onChange={state => {
          this.state = { ...state, enabled: true };
          this.update();
        }}
      />
    );
  }
}

export function addAutomatePipelineCommand(options: {
  app: JupyterFrontEnd;
  trans: TranslationBundle;
  fileBrowser: Parameters<typeof selectedPipeline>[0];
}): void {
  const { app, trans, fileBrowser } = options;
  const client = new TriggersClient(app.serviceManager.serverSettings);
  app.commands.addCommand(AUTOMATE_PIPELINE, {
    label: trans.__('Run Pipeline on Each Commit…'),
    caption: trans.__(
      'Each new commit of a branch starts this pipeline, from that commit'
    ),
    icon: mlopsIcon,
    isVisible: () => selectedPipeline(fileBrowser) !== null,
    execute: async args => {
      const path = pipelineOf(args, fileBrowser);
      if (!path) {
        return;
      }
      const answer = await showDialog({
        title: trans.__('Run pipeline %1 on each commit', path),
        body: new AutomateBody(trans),
        buttons: [
          Dialog.cancelButton({ label: trans.__('Cancel') }),
          Dialog.okButton({ label: trans.__('Create trigger') })
        ]
      });
      if (!answer.button.accept || !answer.value) {
        return;
      }
      try {
        const trigger = await client.create(
          pipelineTriggerRequest(path, answer.value)
        );
        Notification.success(
          trans.__('Trigger "%1" runs %2 on each commit.', trigger.name, path),
          { autoClose: 5000 }
        );
      } catch (error) {
        notifyError(trans.__('Could not create the trigger'), error);
      }
    }
  });
  app.contextMenu.addItem({
    command: AUTOMATE_PIPELINE,
    selector: '.jp-DirListing-item[data-file-type="yaml"]',
    rank: 4
  });
}
