/**
 * The run history model: one page-by-page list of runs, its filters, a
 * selection (for Compare) and live updates from the server-sent event stream,
 * with a polling fallback when the stream is not available. It also holds
 * the metric columns of the list (latest values of chosen keys, kept fresh
 * for active runs) and the order of the loaded runs (sorting is done here, on
 * the loaded runs: the server pages newest first).
 *
 * Views (the side panel, run details) subscribe to its signals; they never
 * call the REST API for the list themselves.
 */
import { IDisposable } from '@lumino/disposable';
import { ISignal, Signal } from '@lumino/signaling';

import {
  IRunDeleted,
  IRunSummary,
  isActive,
  MLOpsAPIError,
  MLOpsClient,
  RunStatus
} from './api';

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

/** How the model currently learns about changes. */
export type ConnectionState = 'idle' | 'stream' | 'polling';

/** A change of one run, as told by `RunsModel.runChanged`. */
export interface IRunChange {
  id: string;
  /** The run's new summary; null when it was deleted. */
  run: IRunSummary | null;
}

/** How the loaded runs are ordered: by creation (`key` '') or by a metric. */
export interface IRunSort {
  /** '' for the creation time, else a metric column's key. */
  key: string;
  order: 'asc' | 'desc';
}

/** Newest first: the server's order. */
export const DEFAULT_SORT: IRunSort = { key: '', order: 'desc' };

/** Most metric columns (the server's limit). */
export const MAX_METRIC_COLUMNS = 20;

const EMPTY_FILTERS: IRunFilters = { notebook: '', status: [], tag: '', q: '' };
const MAX_LIMIT = 500;
const STREAM_RETRY_MS = 30000;
/** Active runs whose column values are refreshed per tick. */
const MAX_LIVE_METRIC_RUNS = 10;

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

function compareNewestFirst(a: IRunSummary, b: IRunSummary): number {
  const ta = Date.parse(a.created_at);
  const tb = Date.parse(b.created_at);
  if (ta !== tb) {
    return tb - ta;
  }
  return a.id < b.id ? 1 : a.id > b.id ? -1 : 0;
}

/**
 * The run history with live updates.
 */
export class RunsModel implements IDisposable {
  constructor(options: RunsModel.IOptions) {
    this.client = options.client;
    this._pageSize = options.pageSize ?? 25;
    this._refreshInterval = options.refreshInterval ?? 5;
  }

  /** The REST client. */
  readonly client: MLOpsClient;

  /** Emitted when the list, filters, selection or loading state change. */
  get changed(): ISignal<this, void> {
    return this._changed;
  }

  /** Emitted for every change of one run (from the stream, polling or an action). */
  get runChanged(): ISignal<this, IRunChange> {
    return this._runChanged;
  }

  /** Runs loaded so far, newest first. */
  get runs(): ReadonlyArray<IRunSummary> {
    return this._runs;
  }

  /** Whether more (older) runs can be loaded with {@link loadMore}. */
  get hasMore(): boolean {
    return this._nextCursor !== null;
  }

  get loading(): boolean {
    return this._loading;
  }

  /** The last error of a list request (null after a successful one). */
  get error(): string | null {
    return this._error;
  }

  get connection(): ConnectionState {
    return this._connection;
  }

  get filters(): Readonly<IRunFilters> {
    return this._filters;
  }

  get pageSize(): number {
    return this._pageSize;
  }

  set pageSize(value: number) {
    this._pageSize = Math.max(1, Math.min(MAX_LIMIT, Math.round(value)));
  }

  /** Seconds between two refreshes when polling. */
  get refreshInterval(): number {
    return this._refreshInterval;
  }

  set refreshInterval(value: number) {
    this._refreshInterval = Math.max(1, value);
    if (this._pollTimer !== null) {
      this._stopPolling();
      this._startPolling();
    }
  }

  /** Ids of the selected runs, in selection order. */
  get selected(): ReadonlyArray<string> {
    return this._selected;
  }

  /** Metric keys shown as columns (latest value per run). */
  get metricColumns(): ReadonlyArray<string> {
    return this._metricColumns;
  }

  /** How the loaded runs are ordered. */
  get sort(): Readonly<IRunSort> {
    return this._sort;
  }

  /** The loaded runs in {@link sort} order. */
  get sortedRuns(): IRunSummary[] {
    return sortRuns(this._runs, this._sort);
  }

  /**
   * Show the latest values of these metric keys as columns (reloads the list
   * with them). A sort by a key that is no longer a column is reset.
   */
  async setMetricColumns(keys: ReadonlyArray<string>): Promise<void> {
    const columns = parseColumns(keys);
    if (columns.join('\n') === this._metricColumns.join('\n')) {
      return;
    }
    const added = columns.some(k => !this._metricColumns.includes(k));
    this._metricColumns = columns;
    if (this._sort.key && !columns.includes(this._sort.key)) {
      this._sort = { ...DEFAULT_SORT };
    }
    this._syncMetricTimer();
    this._changed.emit();
    if (added && this._started) {
      await this.refresh();
    }
  }

  /** Order the loaded runs. */
  setSort(sort: IRunSort): void {
    const key =
      sort.key && this._metricColumns.includes(sort.key) ? sort.key : '';
    const next: IRunSort = {
      key,
      order: sort.order === 'asc' ? 'asc' : 'desc'
    };
    if (next.key !== this._sort.key || next.order !== this._sort.order) {
      this._sort = next;
      this._changed.emit();
    }
  }

  /** Notebooks seen in the loaded runs (for the notebook filter). */
  get notebooks(): string[] {
    return [...new Set(this._runs.map(r => r.notebook))].sort();
  }

  /** Tags seen in the loaded runs (for the tag filter). */
  get tags(): string[] {
    const tags = new Set<string>();
    for (const run of this._runs) {
      run.tags.forEach(t => tags.add(t));
    }
    return [...tags].sort();
  }

  get isDisposed(): boolean {
    return this._isDisposed;
  }

  /** A loaded run by id. */
  getRun(id: string): IRunSummary | undefined {
    return this._runs.find(r => r.id === id);
  }

  /**
   * Load the first page and start listening to the event stream.
   */
  async start(): Promise<void> {
    this._started = true;
    this._connect();
    await this.refresh();
  }

  /** Change the filters and reload the first page. */
  async setFilters(filters: Partial<IRunFilters>): Promise<void> {
    this._filters = { ...this._filters, ...filters };
    this._runs = [];
    this._nextCursor = null;
    this._changed.emit();
    await this.refresh({ keepLoaded: false });
  }

  /** Clear every filter. */
  async clearFilters(): Promise<void> {
    await this.setFilters({ ...EMPTY_FILTERS });
  }

  /**
   * Reload from the first page, as many runs as are loaded now (at least one
   * page), so paging position survives a refresh.
   */
  async refresh(options: { keepLoaded?: boolean } = {}): Promise<void> {
    const keep = options.keepLoaded ?? true;
    const limit = Math.min(
      MAX_LIMIT,
      Math.max(this._pageSize, keep ? this._runs.length : 0)
    );
    const generation = ++this._generation;
    this._eventsDuringRequest.clear();
    this._setLoading(true);
    try {
      const page = await this.client.listRuns({ ...this._query(), limit });
      if (generation !== this._generation || this._isDisposed) {
        return;
      }
      const runs = page.runs.map(run => {
        const seen = this._eventsDuringRequest.get(run.id);
        return seen && isNewer(seen, run)
          ? { ...seen, metrics: run.metrics ?? seen.metrics }
          : run;
      });
      const previous = new Map(this._runs.map(r => [r.id, r]));
      this._runs = runs;
      this._nextCursor = page.next_cursor;
      this._error = null;
      for (const run of runs) {
        const before = previous.get(run.id);
        if (
          !before ||
          before.status !== run.status ||
          before.cells_done !== run.cells_done
        ) {
          this._runChanged.emit({ id: run.id, run });
        }
      }
    } catch (error) {
      if (generation !== this._generation || this._isDisposed) {
        return;
      }
      this._error = RunsModel.errorMessage(error);
    } finally {
      if (generation === this._generation && !this._isDisposed) {
        this._setLoading(false);
      }
    }
  }

  /** Append the next page of older runs. */
  async loadMore(): Promise<void> {
    if (this._nextCursor === null || this._loading) {
      return;
    }
    const generation = ++this._generation;
    this._setLoading(true);
    try {
      const page = await this.client.listRuns({
        ...this._query(),
        limit: this._pageSize,
        cursor: this._nextCursor
      });
      if (generation !== this._generation || this._isDisposed) {
        return;
      }
      const known = new Set(this._runs.map(r => r.id));
      this._runs = [...this._runs, ...page.runs.filter(r => !known.has(r.id))];
      this._nextCursor = page.next_cursor;
      this._error = null;
    } catch (error) {
      if (generation !== this._generation || this._isDisposed) {
        return;
      }
      this._error = RunsModel.errorMessage(error);
    } finally {
      if (generation === this._generation && !this._isDisposed) {
        this._setLoading(false);
      }
    }
  }

  /**
   * Record a run's new summary (from the stream, or the answer of an action
   * such as submit or cancel).
   */
  upsert(run: IRunSummary): void {
    if (this._isDisposed) {
      return;
    }
    if (this._loading) {
      this._eventsDuringRequest.set(run.id, run);
    }
    const index = this._runs.findIndex(r => r.id === run.id);
    let listChanged = false;
    if (index >= 0) {
      const current = this._runs[index];
      if (isNewer(current, run)) {
        return; // a late, older summary
      }
      if (!run.metrics && current.metrics) {
        // Event summaries carry no metric values: keep the known ones.
        run = { ...run, metrics: current.metrics };
      }
      if (
        this._metricColumns.length &&
        isActive(current.status) &&
        !isActive(run.status)
      ) {
        // It ended: fetch its final values once the last points are in.
        const id = run.id;
        window.setTimeout(() => void this._updateMetricValues([id]), 1000);
      }
      const runs = [...this._runs];
      if (matchesFilters(run, this._filters)) {
        runs[index] = run;
      } else {
        runs.splice(index, 1);
      }
      this._runs = runs;
      listChanged = true;
    } else if (matchesFilters(run, this._filters)) {
      const oldest = this._runs[this._runs.length - 1];
      // A run older than the loaded ones belongs to a page not loaded yet.
      if (!oldest || !this.hasMore || compareNewestFirst(run, oldest) < 0) {
        this._runs = [...this._runs, run].sort(compareNewestFirst);
        listChanged = true;
      }
    }
    this._runChanged.emit({ id: run.id, run });
    if (listChanged) {
      this._changed.emit();
    }
  }

  /** Forget a deleted run. */
  remove(id: string): void {
    const before = this._runs.length;
    this._runs = this._runs.filter(r => r.id !== id);
    this._eventsDuringRequest.delete(id);
    const wasSelected = this._selected.includes(id);
    this._selected = this._selected.filter(s => s !== id);
    this._runChanged.emit({ id, run: null });
    if (before !== this._runs.length || wasSelected) {
      this._changed.emit();
    }
  }

  /** Select or unselect a run (for Compare). */
  setSelected(id: string, selected: boolean): void {
    const has = this._selected.includes(id);
    if (selected === has) {
      return;
    }
    this._selected = selected
      ? [...this._selected, id]
      : this._selected.filter(s => s !== id);
    this._changed.emit();
  }

  clearSelection(): void {
    if (this._selected.length) {
      this._selected = [];
      this._changed.emit();
    }
  }

  dispose(): void {
    if (this._isDisposed) {
      return;
    }
    this._isDisposed = true;
    this._disconnect();
    this._stopPolling();
    this._metricColumns = [];
    this._syncMetricTimer();
    if (this._retryTimer !== null) {
      window.clearTimeout(this._retryTimer);
      this._retryTimer = null;
    }
    Signal.clearData(this);
  }

  /** A readable message for any error of an API call. */
  static errorMessage(error: unknown): string {
    if (error instanceof MLOpsAPIError) {
      return error.message;
    }
    return error instanceof Error ? error.message : String(error);
  }

  // -- private ---------------------------------------------------------------------

  private _query() {
    const f = this._filters;
    return {
      status: f.status.length ? f.status : undefined,
      notebook: f.notebook.trim() || undefined,
      tag: f.tag.trim() ? [f.tag.trim()] : undefined,
      q: f.q.trim() || undefined,
      metrics: this._metricColumns.length ? [...this._metricColumns] : undefined
    };
  }

  /** While there are metric columns, refresh the values of active runs. */
  private _syncMetricTimer(): void {
    const want = this._metricColumns.length > 0 && !this._isDisposed;
    if (want && this._metricTimer === null) {
      this._metricTimer = window.setInterval(
        () => {
          if (typeof document !== 'undefined' && document.hidden) {
            return;
          }
          const active = this._runs
            .filter(r => isActive(r.status))
            .slice(0, MAX_LIVE_METRIC_RUNS)
            .map(r => r.id);
          if (active.length) {
            void this._updateMetricValues(active);
          }
        },
        Math.max(2, Math.min(this._refreshInterval, 5)) * 1000
      );
    } else if (!want && this._metricTimer !== null) {
      window.clearInterval(this._metricTimer);
      this._metricTimer = null;
    }
  }

  /** Fetch the column values of these runs (one small request per run). */
  private async _updateMetricValues(ids: string[]): Promise<void> {
    const columns = [...this._metricColumns];
    if (!columns.length || this._isDisposed) {
      return;
    }
    const results = await Promise.all(
      ids.map(id =>
        this.client.runMetrics(id).then(
          info => ({ id, info }),
          () => ({ id, info: null })
        )
      )
    );
    if (this._isDisposed) {
      return;
    }
    let changed = false;
    for (const { id, info } of results) {
      const index = this._runs.findIndex(r => r.id === id);
      if (!info || index < 0) {
        continue;
      }
      const values: Record<string, number | null> = {};
      for (const key of info.keys) {
        if (columns.includes(key.key)) {
          values[key.key] = key.latest;
        }
      }
      const run = this._runs[index];
      if (JSON.stringify(values) !== JSON.stringify(run.metrics ?? {})) {
        const runs = [...this._runs];
        runs[index] = { ...run, metrics: values };
        this._runs = runs;
        changed = true;
      }
    }
    if (changed) {
      this._changed.emit();
    }
  }

  private _setLoading(loading: boolean): void {
    this._loading = loading;
    this._changed.emit();
  }

  private _setConnection(state: ConnectionState): void {
    if (this._connection !== state) {
      this._connection = state;
      this._changed.emit();
    }
  }

  private _connect(): void {
    if (this._isDisposed || this._source) {
      return;
    }
    if (typeof EventSource === 'undefined') {
      this._startPolling();
      return;
    }
    let source: EventSource;
    try {
      source = new EventSource(this.client.eventsUrl(), {
        withCredentials: true
      });
    } catch {
      this._startPolling();
      return;
    }
    this._source = source;
    let wasDown = false;
    source.addEventListener('open', () => {
      this._stopPolling();
      this._setConnection('stream');
      if (wasDown) {
        // Missed events are replayed (Last-Event-ID), but a refresh also
        // catches runs created while the server was away.
        void this.refresh();
      }
      wasDown = false;
    });
    source.addEventListener('run', event => {
      const data = this._parse<IRunSummary>(event as MessageEvent);
      if (data && typeof data.id === 'string') {
        this.upsert(data);
      }
    });
    source.addEventListener('run_deleted', event => {
      const data = this._parse<IRunDeleted>(event as MessageEvent);
      if (data && typeof data.id === 'string') {
        this.remove(data.id);
      }
    });
    source.addEventListener('error', () => {
      wasDown = true;
      this._startPolling();
      if (source.readyState === EventSource.CLOSED) {
        // The browser gave up (an HTTP error): try again later ourselves.
        source.close();
        this._source = null;
        if (this._retryTimer === null && !this._isDisposed) {
          this._retryTimer = window.setTimeout(() => {
            this._retryTimer = null;
            this._connect();
          }, STREAM_RETRY_MS);
        }
      }
    });
  }

  private _disconnect(): void {
    if (this._source) {
      this._source.close();
      this._source = null;
    }
  }

  private _parse<T>(event: MessageEvent): T | null {
    try {
      return JSON.parse(event.data as string) as T;
    } catch {
      return null;
    }
  }

  private _startPolling(): void {
    if (this._pollTimer !== null || this._isDisposed) {
      return;
    }
    this._setConnection('polling');
    const tick = () => {
      this._pollTimer = window.setTimeout(async () => {
        if (this._isDisposed || this._pollTimer === null) {
          return;
        }
        if (typeof document === 'undefined' || !document.hidden) {
          await this.refresh();
        }
        if (this._pollTimer !== null) {
          tick();
        }
      }, this._refreshInterval * 1000);
    };
    tick();
  }

  private _stopPolling(): void {
    if (this._pollTimer !== null) {
      window.clearTimeout(this._pollTimer);
      this._pollTimer = null;
    }
  }

  private _metricColumns: string[] = [];
  private _sort: IRunSort = { ...DEFAULT_SORT };
  private _metricTimer: number | null = null;
  private _started = false;
  private _runs: IRunSummary[] = [];
  private _nextCursor: string | null = null;
  private _filters: IRunFilters = { ...EMPTY_FILTERS };
  private _selected: string[] = [];
  private _loading = false;
  private _error: string | null = null;
  private _generation = 0;
  private _eventsDuringRequest = new Map<string, IRunSummary>();
  private _pageSize: number;
  private _refreshInterval: number;
  private _connection: ConnectionState = 'idle';
  private _source: EventSource | null = null;
  private _pollTimer: number | null = null;
  private _retryTimer: number | null = null;
  private _isDisposed = false;
  private _changed = new Signal<this, void>(this);
  private _runChanged = new Signal<this, IRunChange>(this);
}

export namespace RunsModel {
  export interface IOptions {
    client: MLOpsClient;
    /** Runs per page (default 25). */
    pageSize?: number;
    /** Seconds between refreshes when the event stream is down (default 5). */
    refreshInterval?: number;
  }
}
