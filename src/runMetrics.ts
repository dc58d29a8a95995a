/**
 * The metric keys and series of one run, for the run detail.
 *
 * Series come downsampled from the server (`max_points`, min and max of
 * each bucket kept), so a chart never loads every point of a long run. A
 * refresh first asks for the run's keys (latest step and point count of
 * each, one cheap query) and then fetches only the series that changed.
 */
import type { IMetricKey, IMetricSeries, MLOpsClient } from './api';
import { MAX_SERIES_KEYS } from './api';
import { ModelBase, SerialTask } from './modelBase';
import { errorMessage } from './request';

/** Points per series asked for in the run detail (about a wide chart's pixels). */
export const DETAIL_POINTS = 1000;

/** `items` in slices of at most `size` (requests name a bounded number of keys). */
export function chunks<T>(items: ReadonlyArray<T>, size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) {
    out.push(items.slice(i, i + size));
  }
  return out;
}

/** What changes when a key got new points (to fetch only those series). */
export function keyStamp(key: IMetricKey): string {
  return `${key.total_points}:${key.step}:${key.at ?? ''}:${key.latest}`;
}

/**
 * The metric keys and series of one run, refreshed on demand (the run
 * detail calls {@link refresh} on the run's live events and on a timer
 * while the run is going). Overlapping refreshes are coalesced.
 */
export class RunMetrics extends ModelBase {
  constructor(options: RunMetrics.IOptions) {
    super();
    this.client = options.client;
    this.runId = options.runId;
    this.maxPoints = options.maxPoints ?? DETAIL_POINTS;
  }

  readonly client: MLOpsClient;
  readonly runId: string;
  readonly maxPoints: number;

  /** The run's metric keys, sorted. */
  get keys(): ReadonlyArray<IMetricKey> {
    return this._keys;
  }

  /** Series by key (only keys with at least two points are fetched). */
  get series(): ReadonlyMap<string, IMetricSeries> {
    return this._series;
  }

  /** Fetch the keys, then the series that changed since the last refresh. */
  refresh(): Promise<void> {
    return this._refreshTask.run();
  }

  private async _refresh(): Promise<void> {
    if (this.isDisposed) {
      return;
    }
    let changed = false;
    try {
      const info = await this.client.runMetrics(this.runId);
      if (this.isDisposed) {
        return;
      }
      const stale = info.keys.filter(
        k => k.total_points >= 2 && this._stamps.get(k.key) !== keyStamp(k)
      );
      const series = new Map(this._series);
      for (const part of chunks(stale, MAX_SERIES_KEYS)) {
        const set = await this.client.metricSeriesSet(
          [this.runId],
          part.map(k => k.key),
          this.maxPoints
        );
        if (this.isDisposed) {
          return;
        }
        for (const s of set.series) {
          series.set(s.key, s);
        }
        for (const k of part) {
          this._stamps.set(k.key, keyStamp(k));
        }
      }
      const known = new Set(info.keys.map(k => k.key));
      for (const key of [...series.keys()]) {
        if (!known.has(key)) {
          series.delete(key);
          this._stamps.delete(key);
        }
      }
      changed =
        stale.length > 0 ||
        !this._loaded ||
        this._error !== null ||
        info.keys.map(keyStamp).join('\n') !==
          this._keys.map(keyStamp).join('\n');
      this._keys = info.keys;
      this._series = series;
      this._loaded = true;
      this._error = null;
    } catch (error) {
      if (this.isDisposed) {
        return;
      }
      const message = errorMessage(error);
      changed = message !== this._error;
      this._error = message;
    }
    if (changed) {
      this.emitChanged();
    }
  }

  private _keys: IMetricKey[] = [];
  private _series = new Map<string, IMetricSeries>();
  private _stamps = new Map<string, string>();
  private _refreshTask = new SerialTask(() => this._refresh());
}

export namespace RunMetrics {
  export interface IOptions {
    client: MLOpsClient;
    runId: string;
    /** Points per series (default {@link DETAIL_POINTS}). */
    maxPoints?: number;
  }
}
