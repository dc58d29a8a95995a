/**
 * Which run changes deserve a "run finished" notification, and its words.
 *
 * A run is announced once, when it is seen going from an active status to
 * succeeded, failed, timed out or lost (a cancel is the user's own doing):
 * never for a run already ended when it was first seen (a page load, the
 * first page of the list), never twice (a reconnect replays the summaries of
 * runs that changed). With the scope "mine", only runs submitted from this
 * browser are announced.
 *
 * Free of runtime JupyterLab imports so that the unit tests load it.
 */
import type { TranslationBundle } from '@jupyterlab/translation';

import type { IRunSummary, RunStatus } from './api';
import { basename, formatDuration, shortId } from './format';
import { isActive } from './status';

/** Whose runs are announced. */
export type NotifyScope = 'mine' | 'all';

export interface INotifySettings {
  enabled: boolean;
  scope: NotifyScope;
}

export const DEFAULT_NOTIFY_SETTINGS: INotifySettings = {
  enabled: true,
  scope: 'mine'
};

/** The ends that are announced. */
export const NOTIFIED_STATUSES: ReadonlySet<RunStatus> = new Set<RunStatus>([
  'succeeded',
  'failed',
  'timed_out',
  'lost'
]);

/** Most run ids remembered as "submitted from this browser". */
export const MAX_MINE = 200;

/** The settings as given (a missing or odd value: the default). */
export function notifySettings(raw: {
  notifications?: unknown;
  notificationScope?: unknown;
}): INotifySettings {
  return {
    enabled:
      typeof raw.notifications === 'boolean'
        ? raw.notifications
        : DEFAULT_NOTIFY_SETTINGS.enabled,
    scope: raw.notificationScope === 'all' ? 'all' : 'mine'
  };
}

/** The decision: what was seen of each run, what was announced. */
export class FinishWatch {
  /** `mine`: ids of runs submitted from this browser before (persisted). */
  constructor(mine: Iterable<string> = []) {
    this._mine = [...mine].slice(-MAX_MINE);
  }

  /** Ids of the runs submitted from this browser, oldest first. */
  get mine(): ReadonlyArray<string> {
    return this._mine;
  }

  /** A run submitted from this browser now: announced even if it ends before it is seen active. */
  addMine(id: string): void {
    this._mine = [...this._mine.filter(m => m !== id), id].slice(-MAX_MINE);
    this._submittedNow.add(id);
  }

  /**
   * Take a run's new summary; true when its end is to be announced now (the
   * caller shows the notification).
   */
  observe(run: IRunSummary, settings: INotifySettings): boolean {
    const before = this._seen.get(run.id);
    this._seen.set(run.id, run.status);
    if (!NOTIFIED_STATUSES.has(run.status) || this._announced.has(run.id)) {
      return false;
    }
    const wasActive =
      before !== undefined ? isActive(before) : this._submittedNow.has(run.id);
    if (!wasActive) {
      return false;
    }
    this._announced.add(run.id); // decided once, shown or not
    if (!settings.enabled) {
      return false;
    }
    return settings.scope === 'all' || this._mine.includes(run.id);
  }

  /** Forget a deleted run. */
  forget(id: string): void {
    this._seen.delete(id);
  }

  private _mine: string[];
  private _submittedNow = new Set<string>();
  private _seen = new Map<string, RunStatus>();
  private _announced = new Set<string>();
}

/** What a finish notification says. */
export interface IFinishNotice {
  type: 'success' | 'error' | 'warning';
  message: string;
}

export function finishNotice(
  run: IRunSummary,
  trans: TranslationBundle
): IFinishNotice {
  const name = `${basename(run.notebook)} · ${shortId(run.id)}`;
  const took = formatDuration(run.duration_s);
  const why = run.status_reason ? `: ${run.status_reason}` : '';
  switch (run.status) {
    case 'succeeded':
      return {
        type: 'success',
        message: took
          ? trans.__('Run %1 succeeded in %2.', name, took)
          : trans.__('Run %1 succeeded.', name)
      };
    case 'timed_out':
      return {
        type: 'warning',
        message: trans.__('Run %1 timed out%2', name, why)
      };
    case 'lost':
      return {
        type: 'error',
        message: trans.__('Run %1 was lost%2', name, why)
      };
    default:
      return { type: 'error', message: trans.__('Run %1 failed%2', name, why) };
  }
}
