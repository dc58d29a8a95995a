/**
 * Typed client of the schedule endpoints (`<baseUrl>/mlops/api/schedules`).
 *
 * The server side is `jupyter_mlops/server/schedule_handlers.py`; the shapes
 * are the schema's (see `api.ts`). Errors are {@link MLOpsAPIError}s, as for
 * the rest of the API.
 */
import { ServerConnection } from '@jupyterlab/services';

import type {
  IRunSummary,
  ISchedule,
  IScheduleChanges,
  IScheduleDetail,
  IScheduleRequest
} from './api';
import { requestAPI } from './request';

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
    return this._request<IScheduleDetail>(this._path(id));
  }

  create(request: IScheduleRequest): Promise<ISchedule> {
    return this._request<ISchedule>('schedules', {
      method: 'POST',
      body: JSON.stringify(request)
    });
  }

  update(id: string, changes: IScheduleChanges): Promise<ISchedule> {
    return this._request<ISchedule>(this._path(id), {
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
    await this._request<void>(this._path(id), { method: 'DELETE' });
  }

  /** Run the schedule's notebook once, now; the new run. */
  runNow(id: string): Promise<IRunSummary> {
    return this._request<IRunSummary>(this._path(id, 'run'), {
      method: 'POST'
    });
  }

  private _path(id: string, ...rest: string[]): string {
    return ['schedules', encodeURIComponent(id), ...rest].join('/');
  }

  private _request<T>(endPoint: string, init: RequestInit = {}): Promise<T> {
    return requestAPI<T>(endPoint, init, this.serverSettings);
  }
}
