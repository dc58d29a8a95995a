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
  LabIcon,
  ReactWidget,
  refreshIcon,
  ToolbarButtonComponent
} from '@jupyterlab/ui-components';
import { IDisposable } from '@lumino/disposable';
import { Message } from '@lumino/messaging';
import { ISignal, Signal } from '@lumino/signaling';
import * as React from 'react';

import { IRunSummary, isActive, MLOpsAPIError } from './api';
import { StatusBadge, useTicker } from './components';
import { describeCron } from './cron';
import { basename, formatAgo, formatTime } from './format';
import {
  ISchedule,
  IScheduleDetail,
  IScheduleRun,
  SchedulesClient
} from './schedulesApi';

import schedulesSvgstr from '../style/icons/schedules.svg';

/** The Schedules panel's icon (a clock). */
export const schedulesIcon = new LabIcon({
  name: 'jupyter-mlops:schedules',
  svgstr: schedulesSvgstr
});

function errorMessage(error: unknown): string {
  if (error instanceof MLOpsAPIError) {
    return error.message;
  }
  return error instanceof Error ? error.message : String(error);
}

// -- model ---------------------------------------------------------------------------

/**
 * The schedules and the details of the expanded ones, refreshed every
 * `interval` seconds while started (the panel is visible) and soon after any
 * run changes.
 */
export class SchedulesModel implements IDisposable {
  constructor(options: SchedulesModel.IOptions) {
    this.client = options.client;
    this.interval = options.interval ?? 5;
  }

  readonly client: SchedulesClient;

  /** Seconds between refreshes while started. */
  interval: number;

  get changed(): ISignal<this, void> {
    return this._changed;
  }

  get schedules(): ReadonlyArray<ISchedule> {
    return this._schedules;
  }

  get loaded(): boolean {
    return this._loaded;
  }

  get error(): string | null {
    return this._error;
  }

  get isDisposed(): boolean {
    return this._isDisposed;
  }

  isExpanded(id: string): boolean {
    return this._expanded.has(id);
  }

  detail(id: string): IScheduleDetail | null {
    return this._details.get(id) ?? null;
  }

  /** Show or hide the runs of a schedule (fetched on expand). */
  setExpanded(id: string, expanded: boolean): void {
    if (expanded) {
      this._expanded.add(id);
      void this._loadDetail(id);
    } else {
      this._expanded.delete(id);
    }
    this._changed.emit();
  }

  /** Reload the list and the expanded details. */
  async refresh(): Promise<void> {
    if (this._refreshing) {
      this._again = true;
      return this._refreshing;
    }
    this._refreshing = this._refresh();
    try {
      await this._refreshing;
    } finally {
      this._refreshing = null;
    }
    if (this._again) {
      this._again = false;
      await this.refresh();
    }
  }

  /** Refresh soon (several calls in a burst make one request). */
  refreshSoon(delay = 300): void {
    if (this._soon !== null || this._isDisposed) {
      return;
    }
    this._soon = window.setTimeout(() => {
      this._soon = null;
      if (this._started) {
        void this.refresh();
      }
    }, delay);
  }

  /** A run changed (event stream): update its row now, refresh soon. */
  onRunChanged(run: IRunSummary | null, id: string): void {
    let known = false;
    for (const detail of this._details.values()) {
      const row = detail.runs.find(r => r.id === id);
      if (row) {
        known = true;
        if (run) {
          row.status = run.status;
          row.status_reason = run.status_reason;
        }
      }
    }
    if (run) {
      this._schedules = this._schedules.map(s =>
        s.last_run_id === id && s.last_run_status !== run.status
          ? { ...s, last_run_status: run.status }
          : s
      );
    }
    known =
      known ||
      this._schedules.some(s => s.last_run_id === id) ||
      run?.source === 'schedule';
    if (known) {
      this._changed.emit();
      this.refreshSoon();
    }
  }

  /** Poll while the panel is visible. */
  start(): void {
    if (this._started || this._isDisposed) {
      return;
    }
    this._started = true;
    void this.refresh();
    const tick = () => {
      this._timer = window.setTimeout(() => {
        void this.refresh().finally(() => {
          if (this._started) {
            tick();
          }
        });
      }, this.interval * 1000);
    };
    tick();
  }

  stop(): void {
    this._started = false;
    if (this._timer !== null) {
      window.clearTimeout(this._timer);
      this._timer = null;
    }
  }

  async setActive(id: string, active: boolean): Promise<void> {
    const updated = active
      ? await this.client.resume(id)
      : await this.client.pause(id);
    this._replace(updated);
    if (this._expanded.has(id)) {
      await this._loadDetail(id);
    }
  }

  async runNow(id: string): Promise<IRunSummary> {
    const run = await this.client.runNow(id);
    this._expanded.add(id);
    await this.refresh();
    return run;
  }

  async remove(id: string): Promise<void> {
    await this.client.remove(id);
    this._schedules = this._schedules.filter(s => s.id !== id);
    this._details.delete(id);
    this._expanded.delete(id);
    this._changed.emit();
  }

  /** A schedule created elsewhere (the Run as job dialog). */
  add(schedule: ISchedule): void {
    this._replace(schedule);
    this.refreshSoon(0);
  }

  dispose(): void {
    if (this._isDisposed) {
      return;
    }
    this._isDisposed = true;
    this.stop();
    if (this._soon !== null) {
      window.clearTimeout(this._soon);
    }
    Signal.clearData(this);
  }

  private _replace(schedule: ISchedule): void {
    const index = this._schedules.findIndex(s => s.id === schedule.id);
    this._schedules =
      index < 0
        ? [...this._schedules, schedule]
        : this._schedules.map(s => (s.id === schedule.id ? schedule : s));
    const detail = this._details.get(schedule.id);
    if (detail) {
      this._details.set(schedule.id, { ...detail, ...schedule });
    }
    this._changed.emit();
  }

  private async _refresh(): Promise<void> {
    try {
      const schedules = await this.client.list();
      const ids = new Set(schedules.map(s => s.id));
      for (const id of [...this._expanded]) {
        if (!ids.has(id)) {
          this._expanded.delete(id);
          this._details.delete(id);
        }
      }
      this._schedules = schedules;
      this._error = null;
      this._loaded = true;
      this._changed.emit();
      await Promise.all([...this._expanded].map(id => this._loadDetail(id)));
    } catch (error) {
      this._error = errorMessage(error);
      this._changed.emit();
    }
  }

  private async _loadDetail(id: string): Promise<void> {
    try {
      const detail = await this.client.get(id);
      this._details.set(id, detail);
      this._replace(detail);
    } catch (error) {
      if (error instanceof MLOpsAPIError && error.status === 404) {
        this._schedules = this._schedules.filter(s => s.id !== id);
        this._details.delete(id);
        this._expanded.delete(id);
        this._changed.emit();
        return;
      }
      this._error = errorMessage(error);
      this._changed.emit();
    }
  }

  private _schedules: ISchedule[] = [];
  private _details = new Map<string, IScheduleDetail>();
  private _expanded = new Set<string>();
  private _loaded = false;
  private _error: string | null = null;
  private _started = false;
  private _timer: number | null = null;
  private _soon: number | null = null;
  private _refreshing: Promise<void> | null = null;
  private _again = false;
  private _isDisposed = false;
  private _changed = new Signal<this, void>(this);
}

export namespace SchedulesModel {
  export interface IOptions {
    client: SchedulesClient;
    interval?: number;
  }
}

// -- view ------------------------------------------------------------------------------

/** `in 4 s`, `in 12 min`, `in 3 h 05 min`; a later date in full. */
export function formatIn(
  iso: string,
  trans: TranslationBundle,
  now = Date.now()
): string {
  const seconds = (Date.parse(iso) - now) / 1000;
  if (!isFinite(seconds)) {
    return iso;
  }
  if (seconds <= 0.5) {
    return trans.__('due now');
  }
  if (seconds < 60) {
    return trans.__('in %1 s', Math.round(seconds));
  }
  if (seconds < 3600) {
    return trans.__('in %1 min', Math.round(seconds / 60));
  }
  if (seconds < 86400) {
    const h = Math.floor(seconds / 3600);
    const m = Math.round((seconds % 3600) / 60);
    return trans.__('in %1 h %2 min', h, String(m).padStart(2, '0'));
  }
  return formatTime(iso);
}

/** `11:09:00 PM` today, `Nov 24, 11:09 PM` another day. */
export function formatClock(iso: string, now = Date.now()): string {
  const date = new Date(iso);
  if (isNaN(date.getTime())) {
    return iso;
  }
  if (date.toDateString() === new Date(now).toDateString()) {
    return date.toLocaleTimeString(undefined, {
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit'
    });
  }
  return date.toLocaleString(undefined, {
    month: 'short',
    day: 'numeric',
    hour: '2-digit',
    minute: '2-digit'
  });
}

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
  const [busy, setBusy] = React.useState(false);
  const description = describeCron(schedule.cron, trans);
  const act = async (failure: string, action: () => Promise<void>) => {
    setBusy(true);
    try {
      await action();
    } catch (error) {
      Notification.error(`${failure}: ${errorMessage(error)}`, {
        autoClose: 10000
      });
    } finally {
      setBusy(false);
    }
  };
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
        <button
          type="button"
          className="jp-mlops-schedule-action jp-mlops-schedule-pause"
          disabled={busy}
          onClick={() =>
            void act(
              schedule.active
                ? trans.__('Could not pause "%1"', schedule.name)
                : trans.__('Could not resume "%1"', schedule.name),
              () => model.setActive(schedule.id, !schedule.active)
            )
          }
        >
          {schedule.active ? trans.__('Pause') : trans.__('Resume')}
        </button>
        <button
          type="button"
          className="jp-mlops-schedule-action jp-mlops-schedule-runnow"
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
          {!detail && (
            <div className="jp-mlops-hint" role="status">
              {trans.__('Loading…')}
            </div>
          )}
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
      <div className="jp-mlops-panel-header">
        <h2 className="jp-mlops-panel-title">{trans.__('Schedules')}</h2>
        <ToolbarButtonComponent
          icon={refreshIcon}
          tooltip={trans.__('Refresh the schedules')}
          onClick={() => void model.refresh()}
          className="jp-mlops-refresh"
        />
      </div>
      {model.error && (
        <div className="jp-mlops-panel-error" role="alert">
          {model.error}
        </div>
      )}
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
      {model.loaded && !schedules.length && !model.error && (
        <p className="jp-mlops-empty">
          {trans.__(
            'No schedules yet. Open a notebook, use "Run as job" and tick "Run on a schedule".'
          )}
        </p>
      )}
      {!model.loaded && !model.error && (
        <div className="jp-mlops-loading" role="status">
          {trans.__('Loading…')}
        </div>
      )}
    </div>
  );
}

/**
 * The Schedules side panel; polls while visible.
 */
export class SchedulesPanel extends ReactWidget {
  constructor(options: SchedulesPanel.IOptions) {
    super();
    this._props = options;
    this.addClass('jp-mlops-panel');
    this.addClass('jp-mlops-root');
    this.addClass('jp-mlops-schedules-panel');
    options.model.changed.connect(this._onChanged, this);
  }

  /** Called whenever the panel becomes visible. */
  onShown: (() => void) | null = null;

  get model(): SchedulesModel {
    return this._props.model;
  }

  protected onAfterShow(msg: Message): void {
    super.onAfterShow(msg);
    this._props.model.start();
    this.onShown?.();
  }

  protected onAfterHide(msg: Message): void {
    super.onAfterHide(msg);
    this._props.model.stop();
  }

  dispose(): void {
    if (this.isDisposed) {
      return;
    }
    this._props.model.changed.disconnect(this._onChanged, this);
    this._props.model.stop();
    super.dispose();
  }

  protected render(): JSX.Element {
    return <SchedulesView {...this._props} />;
  }

  private _onChanged(): void {
    this.update();
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
