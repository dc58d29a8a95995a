/**
 * The Schedules side panel: every cron schedule with its next fire time and
 * last run, pause/resume, run now and delete, and the runs of a schedule
 * grouped under it (from `GET schedules/{id}`, which lists them; the run list
 * endpoint has no schedule filter).
 */
import { Dialog, Notification, showDialog } from '@jupyterlab/apputils';
import { TranslationBundle } from '@jupyterlab/translation';
import {
  caretDownIcon,
  caretRightIcon,
  LabIcon
} from '@jupyterlab/ui-components';
import { Message } from '@lumino/messaging';
import * as React from 'react';

import type {
  IRunSummary,
  ISchedule,
  IScheduleDetail,
  IScheduleRun
} from './api';
import { ErrorBanner, Loading, StatusBadge, useTicker } from './components';
import { describeCron } from './cron';
import {
  basename,
  formatAgo,
  formatClock,
  formatIn,
  formatTime
} from './format';
import { ModelPanel, PanelHeader } from './modelPanel';
import { useBusyAction } from './busyAction';
import { PauseButton } from './pauseButton';
import { SchedulesModel } from './schedulesModel';
import { isActive } from './status';
import { targetKind } from './automationTarget';
import { TargetBadge } from './targetBadge';
import { TriggersList } from './triggersList';

import schedulesSvgstr from '../style/icons/schedules.svg';

/** The Schedules panel's icon (a clock). */
export const schedulesIcon = new LabIcon({
  name: 'jupyter-mlops:schedules',
  svgstr: schedulesSvgstr
});

interface IPanelProps {
  model: SchedulesModel;
  trans: TranslationBundle;
  /** Open a run's detail. */
  onOpen: (id: string) => void;
  /** A run was started with "Run now". */
  onRunStarted?: (run: IRunSummary, schedule: ISchedule) => void;
}

function ScheduleRunRow(props: {
  run: IScheduleRun;
  trans: TranslationBundle;
  now: number;
  onOpen: (id: string) => void;
}): JSX.Element {
  const { run, trans } = props;
  return (
    <li
      className="jp-mlops-schedule-run"
      data-run-id={run.id}
      data-status={run.status}
    >
      <button
        type="button"
        className="jp-mlops-schedule-run-open"
        title={trans.__('Open run %1', run.id)}
        aria-label={trans.__('Open run %1', run.id)}
        onClick={() => props.onOpen(run.id)}
      >
        <StatusBadge
          status={run.status}
          trans={trans}
          reason={run.status_reason}
        />
        <span
          className="jp-mlops-schedule-run-slot"
          data-slot={run.scheduled_for ?? ''}
          title={
            run.scheduled_for
              ? trans.__('Fired for the slot %1', formatTime(run.scheduled_for))
              : trans.__('Started with "Run now"')
          }
        >
          {run.scheduled_for
            ? formatClock(run.scheduled_for)
            : trans.__('run now')}
        </span>
        <span className="jp-mlops-schedule-run-ago">
          {formatAgo(run.created_at, trans, props.now)}
        </span>
      </button>
    </li>
  );
}

function ScheduleRow(props: {
  schedule: ISchedule;
  detail: IScheduleDetail | null;
  expanded: boolean;
  now: number;
  props: IPanelProps;
}): JSX.Element {
  const { schedule, detail, expanded, now } = props;
  const { model, trans, onOpen, onRunStarted } = props.props;
  const [busy, act] = useBusyAction();
  const description = describeCron(schedule.cron, trans);
  const remove = async () => {
    const result = await showDialog({
      title: trans.__('Delete schedule?'),
      body: trans.__(
        'Delete the schedule "%1" (%2)? It stops firing; its runs are kept.',
        schedule.name,
        schedule.cron
      ),
      buttons: [
        Dialog.cancelButton({ label: trans.__('Cancel') }),
        Dialog.warnButton({ label: trans.__('Delete') })
      ]
    });
    if (result.button.accept) {
      await act(
        trans.__('Could not delete the schedule "%1"', schedule.name),
        () => model.remove(schedule.id)
      );
    }
  };
  const runs = detail?.runs ?? [];
  return (
    <li
      className={`jp-mlops-schedule${schedule.active ? '' : ' jp-mod-paused'}`}
      data-schedule-id={schedule.id}
      data-active={schedule.active ? 'true' : 'false'}
      aria-busy={busy}
    >
      <div className="jp-mlops-schedule-head">
        <button
          type="button"
          className="jp-mlops-schedule-toggle"
          aria-expanded={expanded}
          title={
            expanded
              ? trans.__('Hide the runs of this schedule')
              : trans.__('Show the runs of this schedule')
          }
          onClick={() => model.setExpanded(schedule.id, !expanded)}
        >
          {expanded ? (
            <caretDownIcon.react tag="span" />
          ) : (
            <caretRightIcon.react tag="span" />
          )}
          <span className="jp-mlops-schedule-name" title={schedule.name}>
            {schedule.name}
          </span>
        </button>
        <span
          className={`jp-mlops-badge jp-mlops-schedule-state jp-mlops-schedule-${schedule.active ? 'active' : 'paused'}`}
        >
          {schedule.active ? trans.__('active') : trans.__('paused')}
        </span>
      </div>
      <div className="jp-mlops-schedule-line">
        <span
          className="jp-mlops-schedule-notebook"
          title={schedule.notebook}
          data-path={schedule.notebook}
        >
          {basename(schedule.notebook)}
        </span>
        <span
          className="jp-mlops-tag jp-mlops-schedule-source"
          title={
            schedule.branch
              ? trans.__('Runs what is committed on branch %1', schedule.branch)
              : trans.__('Runs the notebook as saved when a slot fires')
          }
        >
          {schedule.branch
            ? trans.__('branch %1', schedule.branch)
            : trans.__('working copy')}
        </span>
        <TargetBadge item={schedule} trans={trans} />
      </div>
      <div className="jp-mlops-schedule-line jp-mlops-schedule-when">
        <span className="jp-mlops-schedule-description">
          {description ?? ''}
        </span>
        <span
          className="jp-mlops-schedule-timezone"
          title={trans.__('Time zone of the cron fields')}
        >
          {schedule.timezone}
        </span>
        <code className="jp-mlops-schedule-cron">{schedule.cron}</code>
      </div>
      <div
        className="jp-mlops-schedule-line jp-mlops-schedule-next"
        data-next-fire-at={schedule.next_fire_at ?? ''}
      >
        {schedule.active && schedule.next_fire_at ? (
          <span title={formatTime(schedule.next_fire_at)}>
            {trans.__(
              'Next: %1 · %2',
              formatIn(schedule.next_fire_at, trans, now),
              formatClock(schedule.next_fire_at)
            )}
          </span>
        ) : (
          <span>{trans.__('Paused: no run is due.')}</span>
        )}
        {schedule.last_run_status && (
          <span
            className="jp-mlops-schedule-last"
            title={trans.__('Status of the last run')}
          >
            {trans.__('Last run')}
            <StatusBadge status={schedule.last_run_status} trans={trans} />
          </span>
        )}
      </div>
      <div className="jp-mlops-schedule-actions">
        <PauseButton
          active={schedule.active}
          name={schedule.name}
          className="jp-mlops-schedule-action jp-mlops-schedule-pause"
          busy={busy}
          act={act}
          setActive={active => model.setActive(schedule.id, active)}
          trans={trans}
        />
        <button
          type="button"
          className="jp-mlops-schedule-action jp-mlops-schedule-runnow"
          hidden={targetKind(schedule) === 'pipeline'}
          disabled={busy}
          title={trans.__('Run the notebook once now, as this schedule would')}
          onClick={() =>
            void act(
              trans.__('Could not run "%1"', schedule.name),
              async () => {
                const run = await model.runNow(schedule.id);
                onRunStarted?.(run, schedule);
              }
            )
          }
        >
          {trans.__('Run now')}
        </button>
        <button
          type="button"
          className="jp-mlops-schedule-action jp-mlops-schedule-delete"
          disabled={busy}
          onClick={() => void remove()}
        >
          {trans.__('Delete')}
        </button>
      </div>
      {expanded && (
        <div className="jp-mlops-schedule-detail">
          {!detail && <Loading trans={trans} className="jp-mlops-hint" />}
          {detail && detail.upcoming.length > 0 && schedule.active && (
            <div className="jp-mlops-schedule-upcoming">
              <span className="jp-mlops-schedule-label">
                {trans.__('Upcoming')}
              </span>
              {detail.upcoming.slice(0, 3).map(t => (
                <span key={t} title={formatTime(t)}>
                  {formatClock(t)}
                </span>
              ))}
            </div>
          )}
          {detail && (
            <ul
              className="jp-mlops-schedule-runs"
              aria-label={trans.__('Runs of %1', schedule.name)}
            >
              {runs.map(run => (
                <ScheduleRunRow
                  key={run.id}
                  run={run}
                  trans={trans}
                  now={now}
                  onOpen={onOpen}
                />
              ))}
            </ul>
          )}
          {detail && !runs.length && (
            <p className="jp-mlops-hint">{trans.__('No runs yet.')}</p>
          )}
        </div>
      )}
    </li>
  );
}

function SchedulesView(props: IPanelProps): JSX.Element {
  const { model, trans } = props;
  const schedules = model.schedules;
  const soon = schedules.some(
    s =>
      s.active &&
      s.next_fire_at !== null &&
      Date.parse(s.next_fire_at) - Date.now() < 120_000
  );
  const anyRunning = schedules.some(s =>
    (model.detail(s.id)?.runs ?? []).some(r => isActive(r.status))
  );
  const now = useTicker(true, soon || anyRunning ? 1000 : 30000);
  return (
    <div className="jp-mlops-panel-inner">
      <PanelHeader
        title={trans.__('Schedules')}
        refreshTooltip={trans.__('Refresh the schedules')}
        onRefresh={() => void model.refresh()}
      />
      <ErrorBanner error={model.error} />
      <ul className="jp-mlops-schedules" aria-label={trans.__('Schedules')}>
        {schedules.map(schedule => (
          <ScheduleRow
            key={schedule.id}
            schedule={schedule}
            detail={model.detail(schedule.id)}
            expanded={model.isExpanded(schedule.id)}
            now={now}
            props={props}
          />
        ))}
      </ul>
      <TriggersList
        model={model}
        trans={trans}
        now={now}
        onOpen={props.onOpen}
      />
      {model.loaded &&
        !schedules.length &&
        !model.triggers.length &&
        !model.error && (
          <p className="jp-mlops-empty">
            {trans.__(
              'No schedules or triggers yet. Open a notebook, use "Run as job" and tick "Run on a schedule" or "Run on each new commit".'
            )}
          </p>
        )}
      {!model.loaded && !model.error && <Loading trans={trans} />}
    </div>
  );
}

/**
 * The Schedules side panel; polls while visible.
 */
export class SchedulesPanel extends ModelPanel<SchedulesModel> {
  constructor(options: SchedulesPanel.IOptions) {
    super(options.model, 'jp-mlops-schedules-panel');
    this._props = options;
  }

  protected onAfterShow(msg: Message): void {
    this.model.start();
    super.onAfterShow(msg);
  }

  protected onAfterHide(msg: Message): void {
    super.onAfterHide(msg);
    this.model.stop();
  }

  dispose(): void {
    if (!this.isDisposed) {
      this.model.stop();
    }
    super.dispose();
  }

  protected render(): JSX.Element {
    return <SchedulesView {...this._props} />;
  }

  private _props: IPanelProps;
}

export namespace SchedulesPanel {
  export type IOptions = IPanelProps;
}

/** Tell the user a schedule was created, with its next fire time. */
export function notifyScheduleCreated(
  schedule: ISchedule,
  trans: TranslationBundle,
  show: () => void
): void {
  const when = describeCron(schedule.cron, trans) ?? schedule.cron;
  const next = schedule.next_fire_at
    ? trans.__(
        'Next run %1.',
        formatIn(schedule.next_fire_at, trans) === trans.__('due now')
          ? trans.__('now')
          : formatIn(schedule.next_fire_at, trans)
      )
    : '';
  Notification.success(
    trans.__(
      'Schedule "%1" created: %2 (%3). %4',
      schedule.name,
      when,
      schedule.timezone,
      next
    ),
    {
      autoClose: 8000,
      actions: [
        {
          label: trans.__('Show schedules'),
          caption: trans.__('Open the Schedules panel'),
          callback: show
        }
      ]
    }
  );
}
