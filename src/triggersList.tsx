/**
 * The event triggers in the Schedules panel ("Automations"): what each
 * watches, its last event and run, why its last look failed, and pause,
 * resume and delete, as for schedules.
 */
import { Dialog, showDialog } from '@jupyterlab/apputils';
import { TranslationBundle } from '@jupyterlab/translation';
import * as React from 'react';

import type { ITrigger } from './api';
import { basename, formatAgo } from './format';
import { useBusyAction } from './busyAction';
import { PauseButton } from './pauseButton';
import { SchedulesModel } from './schedulesModel';
import { TargetBadge } from './targetBadge';
import { describeTrigger } from './triggersApi';

function TriggerRow(props: {
  trigger: ITrigger;
  model: SchedulesModel;
  trans: TranslationBundle;
  now: number;
  onOpen: (id: string) => void;
}): JSX.Element {
  const { trigger, model, trans } = props;
  const [busy, act] = useBusyAction();
  const remove = async () => {
    const answer = await showDialog({
      title: trans.__('Delete trigger'),
      body: trans.__('Delete trigger "%1"? Its runs are kept.', trigger.name),
      buttons: [
        Dialog.cancelButton(),
        Dialog.warnButton({ label: trans.__('Delete') })
      ]
    });
    if (answer.button.accept) {
      await act(trans.__('Could not delete "%1"', trigger.name), () =>
        model.removeTrigger(trigger.id)
      );
    }
  };
  return (
    <li
      className={`jp-mlops-schedule jp-mlops-trigger${trigger.active ? '' : ' jp-mod-paused'}`}
      data-trigger-id={trigger.id}
    >
      <div className="jp-mlops-schedule-head">
        <span className="jp-mlops-schedule-name" title={trigger.name}>
          {trigger.name}
        </span>
        <span
          className={`jp-mlops-badge jp-mlops-schedule-state jp-mlops-schedule-${trigger.active ? 'active' : 'paused'}`}
        >
          {trigger.active ? trans.__('active') : trans.__('paused')}
        </span>
      </div>
      <div className="jp-mlops-schedule-line">
        <span
          className="jp-mlops-schedule-notebook"
          title={trigger.notebook_path}
        >
          {basename(trigger.notebook_path)}
        </span>
        <span className="jp-mlops-tag">{trigger.kind}</span>
        <TargetBadge item={trigger} trans={trans} />
      </div>
      <div className="jp-mlops-schedule-line jp-mlops-trigger-when">
        {describeTrigger(trigger)}
      </div>
      {trigger.last_error && (
        <div className="jp-mlops-schedule-line jp-mlops-trigger-error">
          {trigger.last_error}
        </div>
      )}
      {trigger.last_run_id && (
        <div className="jp-mlops-schedule-line">
          <button
            type="button"
            className="jp-mlops-link jp-mlops-trigger-last-run"
            onClick={() => props.onOpen(trigger.last_run_id as string)}
          >
            {trans.__('Last run %1', trigger.last_run_id)}
          </button>
          {trigger.last_event_at && (
            <span className="jp-mlops-schedule-run-ago">
              {formatAgo(trigger.last_event_at, trans, props.now)}
            </span>
          )}
        </div>
      )}
      <div className="jp-mlops-schedule-actions">
        <PauseButton
          active={trigger.active}
          name={trigger.name}
          className="jp-mlops-schedule-action jp-mlops-trigger-pause"
          busy={busy}
          act={act}
          setActive={active => model.setTriggerActive(trigger.id, active)}
          trans={trans}
        />
        <button
          type="button"
          className="jp-mlops-schedule-action jp-mlops-trigger-delete"
          disabled={busy}
          onClick={() => void remove()}
        >
          {trans.__('Delete')}
        </button>
      </div>
    </li>
  );
}

/** The triggers, under the schedules (nothing when there are none). */
export function TriggersList(props: {
  model: SchedulesModel;
  trans: TranslationBundle;
  now: number;
  onOpen: (id: string) => void;
}): JSX.Element | null {
  const { model, trans } = props;
  if (!model.triggers.length) {
    return null;
  }
  return (
    <>
      <h3 className="jp-mlops-panel-subtitle">{trans.__('Triggers')}</h3>
      <ul
        className="jp-mlops-schedules jp-mlops-triggers"
        aria-label={trans.__('Triggers')}
      >
        {model.triggers.map(trigger => (
          <TriggerRow
            key={trigger.id}
            trigger={trigger}
            model={model}
            trans={trans}
            now={props.now}
            onOpen={props.onOpen}
          />
        ))}
      </ul>
    </>
  );
}
