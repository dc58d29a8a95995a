/**
 * The schedules and the details of the expanded ones, and the event
 * triggers (together: the panel's automations), for the Schedules panel:
 * refreshed every `interval` seconds while started (the panel is
 * visible) and soon after any run of a schedule changes.
 */
import { Poll, Throttler } from '@lumino/polling';

import type { IRunSummary, ISchedule, IScheduleDetail, ITrigger } from './api';
import { ModelBase, SerialTask } from './modelBase';
import { disposePoll, intervalPoll, startLater } from './polling';
import { errorMessage, MLOpsAPIError } from './request';
import { SchedulesClient } from './schedulesApi';
import { TriggersClient } from './triggersApi';

/** Wait after a run change before refreshing (a burst makes one request). */
const REFRESH_SOON_MS = 300;

export class SchedulesModel extends ModelBase {
  constructor(options: SchedulesModel.IOptions) {
    super();
    this.client = options.client;
    this.triggersClient = new TriggersClient(options.client.serverSettings);
    this._poll = intervalPoll(
      () => this.refresh(),
      (options.interval ?? 5) * 1000,
      'never'
    );
    this._soon = new Throttler(
      () => (this._started ? this.refresh() : undefined),
      { limit: REFRESH_SOON_MS, edge: 'trailing' }
    );
  }

  readonly client: SchedulesClient;
  readonly triggersClient: TriggersClient;

  get schedules(): ReadonlyArray<ISchedule> {
    return this._schedules;
  }

  /** The event triggers (on commit, data, drift, metric), oldest first. */
  get triggers(): ReadonlyArray<ITrigger> {
    return this._triggers;
  }

  async setTriggerActive(id: string, active: boolean): Promise<void> {
    const updated = await this.triggersClient.setActive(id, active);
    this._triggers = this._triggers.map(t => (t.id === id ? updated : t));
    this.emitChanged();
  }

  async removeTrigger(id: string): Promise<void> {
    await this.triggersClient.remove(id);
    this._triggers = this._triggers.filter(t => t.id !== id);
    this.emitChanged();
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
    this.emitChanged();
  }

  /** Reload the list and the expanded details (calls during one are coalesced). */
  refresh(): Promise<void> {
    return this._refreshTask.run();
  }

  /** Refresh soon (several calls in a burst make one request). */
  refreshSoon(): void {
    if (!this.isDisposed) {
      void this._soon.invoke();
    }
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
      run?.source === 'schedule' ||
      run?.source === 'trigger';
    if (known) {
      this.emitChanged();
      this.refreshSoon();
    }
  }

  /** Poll while the panel is visible. */
  start(): void {
    if (this._started || this.isDisposed) {
      return;
    }
    this._started = true;
    void this.refresh();
    void startLater(this._poll);
  }

  stop(): void {
    this._started = false;
    if (!this.isDisposed) {
      void this._poll.stop();
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
    this._forget(id);
  }

  /** A schedule created elsewhere (the Run as job dialog). */
  add(schedule: ISchedule): void {
    this._replace(schedule);
    if (this._started) {
      void this.refresh();
    }
  }

  protected onDisposed(): void {
    this._started = false;
    disposePoll(this._poll);
    disposePoll(this._soon);
  }

  private _forget(id: string): void {
    this._schedules = this._schedules.filter(s => s.id !== id);
    this._details.delete(id);
    this._expanded.delete(id);
    this.emitChanged();
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
    this.emitChanged();
  }

  private async _refresh(): Promise<void> {
    try {
      const [schedules, triggers] = await Promise.all([
        this.client.list(),
        this.triggersClient.list()
      ]);
      this._triggers = triggers;
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
      this.emitChanged();
      await Promise.all([...this._expanded].map(id => this._loadDetail(id)));
    } catch (error) {
      this._error = errorMessage(error);
      this.emitChanged();
    }
  }

  private async _loadDetail(id: string): Promise<void> {
    try {
      const detail = await this.client.get(id);
      this._details.set(id, detail);
      this._replace(detail);
    } catch (error) {
      if (error instanceof MLOpsAPIError && error.status === 404) {
        this._forget(id);
        return;
      }
      this._error = errorMessage(error);
      this.emitChanged();
    }
  }

  private _schedules: ISchedule[] = [];
  private _triggers: ITrigger[] = [];
  private _details = new Map<string, IScheduleDetail>();
  private _expanded = new Set<string>();
  private _started = false;
  private _poll: Poll;
  private _soon: Throttler;
  private _refreshTask = new SerialTask(() => this._refresh());
}

export namespace SchedulesModel {
  export interface IOptions {
    client: SchedulesClient;
    /** Seconds between refreshes while started (default 5). */
    interval?: number;
  }
}
