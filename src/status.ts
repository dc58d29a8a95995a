/**
 * Run statuses: which are active, and their order in a run's life.
 *
 * Free of runtime imports so that the models, the views and the unit tests
 * share it without loading JupyterLab.
 */
import type { IRunSummary, RunStatus } from './api';

/** Every run status, in lifecycle order. */
export const RUN_STATUSES: ReadonlyArray<RunStatus> = [
  'queued',
  'starting',
  'running',
  'succeeded',
  'failed',
  'cancelled',
  'timed_out',
  'lost'
];

/** Whether a run in this status may still change. */
export function isActive(status: RunStatus): boolean {
  return status === 'queued' || status === 'starting' || status === 'running';
}

/** Rank of a status in a run's life, to tell an older summary from a newer one. */
const STATUS_RANK: Record<RunStatus, number> = {
  queued: 0,
  starting: 1,
  running: 2,
  succeeded: 3,
  failed: 3,
  cancelled: 3,
  timed_out: 3,
  lost: 3
};

/**
 * Whether summary `a` reflects a later state of the run than `b`.
 */
export function isNewer(a: IRunSummary, b: IRunSummary): boolean {
  const ra = STATUS_RANK[a.status] ?? 0;
  const rb = STATUS_RANK[b.status] ?? 0;
  if (ra !== rb) {
    return ra > rb;
  }
  return a.cells_done > b.cells_done;
}
