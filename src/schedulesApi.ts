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
import { APIClient } from './request';

/**
 * The schedule endpoints, one method each.
 */
export class SchedulesClient extends APIClient {
  constructor(serverSettings?: ServerConnection.ISettings) {
    super(serverSettings);
  }

  async list(): Promise<ISchedule[]> {
    const page = await this.request<{ schedules: ISchedule[] }>('schedules');
    return page.schedules;
  }

  get(id: string): Promise<IScheduleDetail> {
    return this.request<IScheduleDetail>(this._path(id));
  }

  create(request: IScheduleRequest): Promise<ISchedule> {
    return this.send<ISchedule>('POST', 'schedules', request);
  }

  update(id: string, changes: IScheduleChanges): Promise<ISchedule> {
    return this.send<ISchedule>('PATCH', this._path(id), changes);
  }

  pause(id: string): Promise<ISchedule> {
    return this.update(id, { active: false });
  }

  resume(id: string): Promise<ISchedule> {
    return this.update(id, { active: true });
  }

  async remove(id: string): Promise<void> {
    await this.send<void>('DELETE', this._path(id));
  }

  /** Run the schedule's notebook once, now; the new run. */
  runNow(id: string): Promise<IRunSummary> {
    return this.send<IRunSummary>('POST', this._path(id, 'run'));
  }

  private _path(id: string, ...rest: string[]): string {
    return this.itemPath('schedules', id, ...rest);
  }
}
