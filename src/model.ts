/**
 * The run history model: one page-by-page list of runs, its filters, a
 * selection (for Compare) and live updates from the server-sent event stream
 * (`runStream.ts`), with a polling fallback when the stream is not available.
 * It also holds the metric columns of the list (latest values of chosen keys,
 * kept fresh for active runs) and the order of the loaded runs (sorting is
 * done here, on the loaded runs: the server pages newest first; the rules
 * themselves are in `runList.ts`).
 *
 * Views (the side panel, run details) subscribe to its signals; they never
 * call the REST API for the list themselves.
 */
import { Debouncer, Poll } from '@lumino/polling';
import { ISignal, Signal } from '@lumino/signaling';

import type { IRunOutputNotice, IRunSummary, MLOpsClient } from './api';
import { ModelBase } from './modelBase';
import {
  disposePoll,
  intervalPoll,
  isStopped,
  setPollInterval,
  startLater
} from './polling';
import { errorMessage } from './request';
import {
  compareNewestFirst,
  DEFAULT_SORT,
  EMPTY_FILTERS,
  IRunFilters,
  IRunSort,
  matchesFilters,
  parseColumns,
  sortRuns
} from './runList';
import { RunStream } from './runStream';
import { isActive, isNewer } from './status';
import type { IMLOpsRuns } from './tokens';

/** How the model currently learns about changes. */
export type ConnectionState = 'idle' | 'stream' | 'polling';

/** A change of one run, as told by `RunsModel.runChanged`. */
export interface IRunChange {
  id: string;
  /** The run's new summary; null when it was deleted. */
  run: IRunSummary | null;
}

const MAX_LIMIT = 500;
/** Active runs whose column values are refreshed per tick. */
const MAX_LIVE_METRIC_RUNS = 10;
/** Wait before fetching an ended run's final values (its last points flush). */
const FINAL_VALUES_MS = 1000;

/** Milliseconds between two refreshes of the metric columns of active runs. */
function metricInterval(refreshInterval: number): number {
  return Math.max(2, Math.min(refreshInterval, 5)) * 1000;
}

/**
 * The run history with live updates.
 */
export class RunsModel extends ModelBase implements IMLOpsRuns {
  constructor(options: RunsModel.IOptions) {
    super();
    this.client = options.client;
    this._pageSize = options.pageSize ?? 25;
    this._refreshInterval = options.refreshInterval ?? 5;
    this._poll = intervalPoll(
      () => this.refresh(),
      this._refreshInterval * 1000
    );
    this._metricPoll = intervalPoll(
      () => this._updateActiveMetricValues(),
      metricInterval(this._refreshInterval)
    );
    this._finalValues = new Debouncer(() => {
      const ids = [...this._ended];
      this._ended.clear();
      return this._updateMetricValues(ids);
    }, FINAL_VALUES_MS);
    this._stream = new RunStream({
      url: () => this.client.eventsUrl(),
      onOpen: reconnected => {
        this._stopPolling();
        this._setConnection('stream');
        if (reconnected) {
          // Missed events are replayed (Last-Event-ID), but a refresh also
          // catches runs created while the server was away.
          void this.refresh();
        }
      },
      onRun: run => this.upsert(run),
      onDeleted: id => this.remove(id),
      onOutput: notice => this._outputChanged.emit(notice),
      onDown: () => this._startPolling()
    });
  }

  /** The REST client. */
  readonly client: MLOpsClient;

  /** Emitted for every change of one run (from the stream, polling or an action). */
  get runChanged(): ISignal<this, IRunChange> {
    return this._runChanged;
  }

  /** Emitted when a run has new output (from the stream only). */
  get outputChanged(): ISignal<this, IRunOutputNotice> {
    return this._outputChanged;
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
    setPollInterval(this._poll, this._refreshInterval * 1000);
    setPollInterval(this._metricPoll, metricInterval(this._refreshInterval));
    if (!isStopped(this._poll)) {
      // Restart, so that the next refresh already follows the new interval.
      void this._poll.stop().then(() => startLater(this._poll));
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
    this._syncMetricPoll();
    this.emitChanged();
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
      this.emitChanged();
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

  /** Start once: the first view shown (or command run) starts the model. */
  ensureStarted(): void {
    if (!this._started) {
      void this.start();
    }
  }

  /** Change the filters and reload the first page. */
  async setFilters(filters: Partial<IRunFilters>): Promise<void> {
    this._filters = { ...this._filters, ...filters };
    this._runs = [];
    this._nextCursor = null;
    this.emitChanged();
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
    this._eventsDuringRequest.clear();
    await this._load({ ...this._query(), limit }, page => {
      const runs = page.runs.map(run => {
        const seen = this._eventsDuringRequest.get(run.id);
        return seen && isNewer(seen, run)
          ? { ...seen, metrics: run.metrics ?? seen.metrics }
          : run;
      });
      const previous = new Map(this._runs.map(r => [r.id, r]));
      this._runs = runs;
      return () => {
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
      };
    });
  }

  /** Append the next page of older runs. */
  async loadMore(): Promise<void> {
    if (this._nextCursor === null || this._loading) {
      return;
    }
    const query = {
      ...this._query(),
      limit: this._pageSize,
      cursor: this._nextCursor
    };
    await this._load(query, page => {
      const known = new Set(this._runs.map(r => r.id));
      this._runs = [...this._runs, ...page.runs.filter(r => !known.has(r.id))];
    });
  }

  /**
   * Record a run's new summary (from the stream, or the answer of an action
   * such as submit or cancel).
   */
  upsert(run: IRunSummary): void {
    if (this.isDisposed) {
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
        this._ended.add(run.id);
        void this._finalValues.invoke();
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
      this.emitChanged();
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
      this.emitChanged();
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
    this.emitChanged();
  }

  clearSelection(): void {
    if (this._selected.length) {
      this._selected = [];
      this.emitChanged();
    }
  }

  protected onDisposed(): void {
    this._stream.dispose();
    disposePoll(this._poll);
    disposePoll(this._metricPoll);
    disposePoll(this._finalValues);
    this._metricColumns = [];
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

  /**
   * One list request: `apply` takes the page unless a newer request (or
   * disposal) came meanwhile, and may return what to do once the list is
   * updated. The loading flag and the error follow the latest request only.
   */
  private async _load(
    query: Parameters<MLOpsClient['listRuns']>[0],
    apply: (
      page: Awaited<ReturnType<MLOpsClient['listRuns']>>
    ) => (() => void) | void
  ): Promise<void> {
    const generation = ++this._generation;
    const current = () => generation === this._generation && !this.isDisposed;
    this._setLoading(true);
    try {
      const page = await this.client.listRuns(query);
      if (!current()) {
        return;
      }
      const after = apply(page);
      this._nextCursor = page.next_cursor;
      this._error = null;
      this._loaded = true;
      after?.();
    } catch (error) {
      if (current()) {
        this._error = errorMessage(error);
      }
    } finally {
      if (current()) {
        this._setLoading(false);
      }
    }
  }

  /** While there are metric columns, refresh the values of active runs. */
  private _syncMetricPoll(): void {
    const want = this._metricColumns.length > 0 && !this.isDisposed;
    if (want && isStopped(this._metricPoll)) {
      void startLater(this._metricPoll);
    } else if (!want && !isStopped(this._metricPoll)) {
      void this._metricPoll.stop();
    }
  }

  private async _updateActiveMetricValues(): Promise<void> {
    const active = this._runs
      .filter(r => isActive(r.status))
      .slice(0, MAX_LIVE_METRIC_RUNS)
      .map(r => r.id);
    if (active.length) {
      await this._updateMetricValues(active);
    }
  }

  /** Fetch the column values of these runs (one small request per run). */
  private async _updateMetricValues(ids: string[]): Promise<void> {
    const columns = [...this._metricColumns];
    if (!columns.length || !ids.length || this.isDisposed) {
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
    if (this.isDisposed) {
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
      this.emitChanged();
    }
  }

  private _setLoading(loading: boolean): void {
    this._loading = loading;
    this.emitChanged();
  }

  private _setConnection(state: ConnectionState): void {
    if (this._connection !== state) {
      this._connection = state;
      this.emitChanged();
    }
  }

  private _connect(): void {
    if (this.isDisposed) {
      return;
    }
    if (!this._stream.connect()) {
      this._startPolling();
    }
  }

  private _startPolling(): void {
    if (!isStopped(this._poll) || this.isDisposed) {
      return;
    }
    this._setConnection('polling');
    void startLater(this._poll);
  }

  private _stopPolling(): void {
    if (!isStopped(this._poll)) {
      void this._poll.stop();
    }
  }

  private _metricColumns: string[] = [];
  private _sort: IRunSort = { ...DEFAULT_SORT };
  private _started = false;
  private _runs: IRunSummary[] = [];
  private _nextCursor: string | null = null;
  private _filters: IRunFilters = { ...EMPTY_FILTERS };
  private _selected: string[] = [];
  private _loading = false;
  private _generation = 0;
  private _eventsDuringRequest = new Map<string, IRunSummary>();
  private _pageSize: number;
  private _refreshInterval: number;
  private _connection: ConnectionState = 'idle';
  private _stream: RunStream;
  private _poll: Poll;
  private _metricPoll: Poll;
  private _ended = new Set<string>();
  private _finalValues: Debouncer;
  private _runChanged = new Signal<this, IRunChange>(this);
  private _outputChanged = new Signal<this, IRunOutputNotice>(this);
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
