/**
 * The rules of the run list, as pure functions: filters (the same as the
 * server's query), the order of the loaded runs, the metric columns and the
 * status filter's choices. `RunsModel` and the side panel use them; the unit
 * tests check them without a server.
 */
import type { IRunSummary, RunStatus } from './api';
import { isActive } from './status';

/**
 * Filters of the run list (empty values do not filter).
 */
export interface IRunFilters {
  /** Exact notebook path relative to the server root. */
  notebook: string;
  /** Keep runs with any of these statuses (empty: all). */
  status: RunStatus[];
  /** Keep runs carrying this tag. */
  tag: string;
  /** Case-insensitive substring of the notebook path, run id or a tag. */
  q: string;
}

/** How the loaded runs are ordered: by creation (`key` '') or by a metric. */
export interface IRunSort {
  /** '' for the creation time, else a metric column's key. */
  key: string;
  order: 'asc' | 'desc';
}

/** Newest first: the server's order. */
export const DEFAULT_SORT: IRunSort = { key: '', order: 'desc' };

/** No filter at all. */
export const EMPTY_FILTERS: IRunFilters = {
  notebook: '',
  status: [],
  tag: '',
  q: ''
};

/** Most metric columns (the server's limit). */
export const MAX_METRIC_COLUMNS = 20;

/**
 * Metric column keys from user text: comma-separated, trimmed, without
 * duplicates or empty ones, at most {@link MAX_METRIC_COLUMNS}.
 */
export function parseColumns(text: string | ReadonlyArray<string>): string[] {
  const parts = typeof text === 'string' ? text.split(',') : text;
  const keys: string[] = [];
  for (const part of parts) {
    const key = part.trim();
    if (key && !keys.includes(key) && key.length <= 255) {
      keys.push(key);
    }
  }
  return keys.slice(0, MAX_METRIC_COLUMNS);
}

/** Newest first by creation time, then by id (the server's page order). */
export function compareNewestFirst(a: IRunSummary, b: IRunSummary): number {
  const ta = Date.parse(a.created_at);
  const tb = Date.parse(b.created_at);
  if (ta !== tb) {
    return tb - ta;
  }
  return a.id < b.id ? 1 : a.id > b.id ? -1 : 0;
}

/**
 * The runs in `sort` order. By a metric: runs without a value (not logged,
 * or NaN) come last in either order; ties keep the newest first.
 */
export function sortRuns(
  runs: ReadonlyArray<IRunSummary>,
  sort: IRunSort
): IRunSummary[] {
  const sorted = [...runs].sort(compareNewestFirst);
  if (!sort.key) {
    return sort.order === 'asc' ? sorted.reverse() : sorted;
  }
  const sign = sort.order === 'asc' ? 1 : -1;
  const value = (run: IRunSummary): number | null => {
    const v = run.metrics?.[sort.key];
    return typeof v === 'number' && isFinite(v) ? v : null;
  };
  return sorted
    .map((run, index) => ({ run, index, value: value(run) }))
    .sort((a, b) => {
      if (a.value === null || b.value === null) {
        return a.value === b.value
          ? a.index - b.index
          : a.value === null
            ? 1
            : -1;
      }
      return a.value !== b.value
        ? sign * (a.value - b.value)
        : a.index - b.index;
    })
    .map(item => item.run);
}

/** The next sort when a column header is clicked: ascending, descending, off. */
export function nextSort(sort: IRunSort, key: string): IRunSort {
  if (sort.key !== key) {
    return { key, order: 'asc' };
  }
  return sort.order === 'asc' ? { key, order: 'desc' } : { ...DEFAULT_SORT };
}

/**
 * Whether a run passes the filters (the same rules as the server's query).
 */
export function matchesFilters(
  run: IRunSummary,
  filters: IRunFilters
): boolean {
  if (filters.status.length && !filters.status.includes(run.status)) {
    return false;
  }
  if (
    filters.notebook &&
    run.notebook !== filters.notebook.replace(/^\//, '')
  ) {
    return false;
  }
  if (filters.tag && !run.tags.includes(filters.tag)) {
    return false;
  }
  if (filters.q) {
    const q = filters.q.toLowerCase();
    const hay = [run.notebook, run.id, ...run.tags].map(s => s.toLowerCase());
    if (!hay.some(s => s.includes(q))) {
      return false;
    }
  }
  return true;
}

/** Whether any filter is set. */
export function hasFilters(filters: IRunFilters): boolean {
  return (
    !!filters.notebook ||
    !!filters.tag ||
    !!filters.q ||
    filters.status.length > 0
  );
}

/** The status filter's grouped choices: "active", and the three kinds of failure. */
export const ACTIVE_FILTER = 'active';
export const FAILED_FILTER = 'problems';
const FAILED_STATUSES: RunStatus[] = ['failed', 'timed_out', 'lost'];

/** The status filter's value for a list of statuses ('' for all). */
export function statusFilterValue(status: ReadonlyArray<RunStatus>): string {
  if (!status.length) {
    return '';
  }
  if (status.length === 3 && status.every(s => isActive(s))) {
    return ACTIVE_FILTER;
  }
  if (status.length === 3 && FAILED_STATUSES.every(s => status.includes(s))) {
    return FAILED_FILTER;
  }
  return status[0];
}

/** The statuses a status filter value stands for. */
export function statusesOf(value: string): RunStatus[] {
  if (!value) {
    return [];
  }
  if (value === ACTIVE_FILTER) {
    return ['queued', 'starting', 'running'];
  }
  if (value === FAILED_FILTER) {
    return [...FAILED_STATUSES];
  }
  return [value as RunStatus];
}
