/**
 * Typed client of the schedule endpoints (`<baseUrl>/mlops/api/schedules`).
 *
 * The server side is `jupyter_mlops/server/schedule_handlers.py`; the
 * contract is in `jupyter_mlops/server/openapi.yaml`. Errors are
 * {@link MLOpsAPIError}s, as for the rest of the API.
 */
import { ServerConnection } from '@jupyterlab/services';

import { IRunSummary, JSONObject, requestAPI, RunStatus } from './api';

/** Which missed slots fire when the scheduler comes back (or a schedule resumes). */
export type CatchupPolicy = 'skip' | 'once' | 'all';

/** What a slot does while the schedule's previous run is still active. */
export type ConcurrencyPolicy = 'allow' | 'skip' | 'queue';

/** One schedule (`GET schedules`, `POST schedules`, `PATCH schedules/{id}`). */
export interface ISchedule {
  id: string;
  /** Given name, else the notebook's stem (`@branch` for a branch schedule). */
  name: string;
  /** Notebook path relative to the server root. */
  notebook: string;
  /** `working_copy`: the file as saved when a slot fires; `branch`: its last commit. */
  source: 'working_copy' | 'branch';
  branch: string | null;
  /** 5 fields (minute hour day month weekday), or 6 with seconds last. */
  cron: string;
  /** IANA time zone the cron fields are read in. */
  timezone: string;
  parameters: JSONObject;
  kernel: string | null;
  gpus: number;
  timeout_s: number | null;
  tags: string[];
  active: boolean;
  catchup: CatchupPolicy;
  max_catchup: number;
  concurrency: ConcurrencyPolicy;
  created_at: string;
  updated_at: string;
  /** The next slot (ISO, UTC); null while paused. */
  next_fire_at: string | null;
  last_fired_slot: string | null;
  last_run_id: string | null;
  last_run_status: RunStatus | null;
}

/** A run of a schedule, as listed in its detail. */
export interface IScheduleRun {
  id: string;
  status: RunStatus;
  status_reason: string | null;
  /** The slot it was fired for; null for "run now". */
  scheduled_for: string | null;
  created_at: string;
}

/** A slot the scheduler handled (fired, skipped, waiting, failed to start). */
export interface IScheduleFire {
  slot: string;
  state: string;
  run_id: string | null;
  run_status: RunStatus | null;
  reason: string | null;
  holder: string | null;
  claimed_at: string | null;
}

/** `GET schedules/{id}`: the schedule, its next fire times, recent slots and runs. */
export interface IScheduleDetail extends ISchedule {
  upcoming: string[];
  fires: IScheduleFire[];
  /** Newest first. */
  runs: IScheduleRun[];
}

/** Body of `POST schedules` (a subset of it is a `PATCH` body). */
export interface IScheduleRequest {
  notebook: string;
  cron: string;
  /** Default: the server machine's zone. */
  timezone?: string | null;
  /** Run what is committed on this branch instead of the working copy. */
  branch?: string | null;
  parameters?: JSONObject;
  kernel?: string | null;
  gpus?: number;
  timeout?: number | null;
  tags?: string[];
  catchup?: CatchupPolicy;
  max_catchup?: number;
  concurrency?: ConcurrencyPolicy;
  name?: string | null;
  active?: boolean;
}

/** Body of `PATCH schedules/{id}`. */
export type IScheduleChanges = Partial<IScheduleRequest>;

/**
 * The schedule endpoints, one method each.
 */
export class SchedulesClient {
  constructor(serverSettings?: ServerConnection.ISettings) {
    this.serverSettings = serverSettings ?? ServerConnection.makeSettings();
  }

  readonly serverSettings: ServerConnection.ISettings;

  async list(): Promise<ISchedule[]> {
    const page = await this._request<{ schedules: ISchedule[] }>('schedules');
    return page.schedules;
  }

  get(id: string): Promise<IScheduleDetail> {
    return this._request<IScheduleDetail>(
      `schedules/${encodeURIComponent(id)}`
    );
  }

  create(request: IScheduleRequest): Promise<ISchedule> {
    return this._request<ISchedule>('schedules', {
      method: 'POST',
      body: JSON.stringify(request)
    });
  }

  update(id: string, changes: IScheduleChanges): Promise<ISchedule> {
    return this._request<ISchedule>(`schedules/${encodeURIComponent(id)}`, {
      method: 'PATCH',
      body: JSON.stringify(changes)
    });
  }

  pause(id: string): Promise<ISchedule> {
    return this.update(id, { active: false });
  }

  resume(id: string): Promise<ISchedule> {
    return this.update(id, { active: true });
  }

  async remove(id: string): Promise<void> {
    await this._request<void>(`schedules/${encodeURIComponent(id)}`, {
      method: 'DELETE'
    });
  }

  /** Run the schedule's notebook once, now; the new run. */
  runNow(id: string): Promise<IRunSummary> {
    return this._request<IRunSummary>(
      `schedules/${encodeURIComponent(id)}/run`,
      { method: 'POST' }
    );
  }

  private _request<T>(endPoint: string, init: RequestInit = {}): Promise<T> {
    return requestAPI<T>(endPoint, init, this.serverSettings);
  }
}
