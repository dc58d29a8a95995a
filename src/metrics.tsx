/**
 * Metric plots: the live series of one run (run detail) and overlays of the
 * same key across runs (Compare).
 *
 * Series come downsampled from the server (`max_points`, min and max of
 * each bucket kept), so a chart never loads every point of a long run. A
 * refresh first asks for the run's keys (latest step and point count of
 * each, one cheap query) and then fetches only the series that changed.
 */
import { TranslationBundle } from '@jupyterlab/translation';
import { IDisposable } from '@lumino/disposable';
import { ISignal, Signal } from '@lumino/signaling';
import * as React from 'react';

import {
  IMetricKey,
  IMetricSeries,
  IRunDetail,
  isActive,
  MAX_SERIES_KEYS,
  MAX_SERIES_RUNS,
  MetricPoint,
  MLOpsClient
} from './api';
import { formatMetric, IChartSeries, LineChart } from './chart';
import { basename } from './format';
import { RunsModel } from './model';

/** Points per series asked for in the run detail (about a wide chart's pixels). */
export const DETAIL_POINTS = 1000;
/** Points per series asked for in Compare overlays. */
export const COMPARE_POINTS = 500;
/** Most keys Compare plots (each key is one overlay chart). */
export const MAX_COMPARE_KEYS = 60;
const NO_POINTS: MetricPoint[] = [];
/** Show a key filter above the charts from this many keys on. */
const FILTER_FROM = 7;

function chunks<T>(items: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) {
    out.push(items.slice(i, i + size));
  }
  return out;
}

function stamp(key: IMetricKey): string {
  return `${key.total_points}:${key.step}:${key.at ?? ''}:${key.latest}`;
}

/**
 * The metric keys and series of one run, refreshed on demand (the run
 * detail calls {@link refresh} on the run's live events and on a timer
 * while the run is going). Overlapping refreshes are coalesced.
 */
export class RunMetrics implements IDisposable {
  constructor(options: RunMetrics.IOptions) {
    this.client = options.client;
    this.runId = options.runId;
    this.maxPoints = options.maxPoints ?? DETAIL_POINTS;
  }

  readonly client: MLOpsClient;
  readonly runId: string;
  readonly maxPoints: number;

  /** Emitted after a refresh changed the keys, a series or the error. */
  get changed(): ISignal<this, void> {
    return this._changed;
  }

  /** The run's metric keys, sorted. */
  get keys(): ReadonlyArray<IMetricKey> {
    return this._keys;
  }

  /** Series by key (only keys with at least two points are fetched). */
  get series(): ReadonlyMap<string, IMetricSeries> {
    return this._series;
  }

  /** Whether the keys were loaded at least once. */
  get loaded(): boolean {
    return this._loaded;
  }

  get error(): string | null {
    return this._error;
  }

  get isDisposed(): boolean {
    return this._isDisposed;
  }

  /** Fetch the keys, then the series that changed since the last refresh. */
  refresh(): Promise<void> {
    if (this._inFlight) {
      this._again = true;
      return this._inFlight;
    }
    this._inFlight = this._refresh().finally(() => {
      this._inFlight = null;
      if (this._again && !this._isDisposed) {
        this._again = false;
        void this.refresh();
      }
    });
    return this._inFlight;
  }

  dispose(): void {
    if (this._isDisposed) {
      return;
    }
    this._isDisposed = true;
    Signal.clearData(this);
  }

  private async _refresh(): Promise<void> {
    let changed = false;
    try {
      const info = await this.client.runMetrics(this.runId);
      if (this._isDisposed) {
        return;
      }
      const stale = info.keys.filter(
        k => k.total_points >= 2 && this._stamps.get(k.key) !== stamp(k)
      );
      const series = new Map(this._series);
      for (const part of chunks(stale, MAX_SERIES_KEYS)) {
        const set = await this.client.metricSeriesSet(
          [this.runId],
          part.map(k => k.key),
          this.maxPoints
        );
        if (this._isDisposed) {
          return;
        }
        for (const s of set.series) {
          series.set(s.key, s);
        }
        for (const k of part) {
          this._stamps.set(k.key, stamp(k));
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
        info.keys.map(stamp).join('\n') !== this._keys.map(stamp).join('\n');
      this._keys = info.keys;
      this._series = series;
      this._loaded = true;
      this._error = null;
    } catch (error) {
      if (this._isDisposed) {
        return;
      }
      const message = RunsModel.errorMessage(error);
      changed = message !== this._error;
      this._error = message;
    }
    if (changed) {
      this._changed.emit();
    }
  }

  private _keys: IMetricKey[] = [];
  private _series = new Map<string, IMetricSeries>();
  private _stamps = new Map<string, string>();
  private _loaded = false;
  private _error: string | null = null;
  private _inFlight: Promise<void> | null = null;
  private _again = false;
  private _isDisposed = false;
  private _changed = new Signal<this, void>(this);
}

export namespace RunMetrics {
  export interface IOptions {
    client: MLOpsClient;
    runId: string;
    /** Points per series (default {@link DETAIL_POINTS}). */
    maxPoints?: number;
  }
}

/** A text filter over metric keys (shown when there are many). */
function KeyFilter(props: {
  value: string;
  onChange: (value: string) => void;
  trans: TranslationBundle;
}): JSX.Element {
  return (
    <input
      type="search"
      className="jp-mod-styled jp-mlops-input jp-mlops-key-filter"
      placeholder={props.trans.__('Filter metrics')}
      aria-label={props.trans.__('Filter metrics by key')}
      value={props.value}
      onChange={e => props.onChange(e.target.value)}
    />
  );
}

function matches(key: string, filter: string): boolean {
  return !filter || key.toLowerCase().includes(filter.trim().toLowerCase());
}

function pointsNote(
  series: ReadonlyArray<IMetricSeries>,
  trans: TranslationBundle
): string {
  const total = series.reduce((n, s) => n + s.total_points, 0);
  const sampled = series.some(s => s.downsampled);
  return sampled
    ? trans.__('%1 points, downsampled', total)
    : trans._n('%1 point', '%1 points', total);
}

/**
 * The Metrics section of the run detail: latest values of every key and a
 * line chart per key with at least two points.
 */
export function RunMetricsView(props: {
  metrics: RunMetrics;
  active: boolean;
  trans: TranslationBundle;
}): JSX.Element | null {
  const { metrics, trans } = props;
  const [filter, setFilter] = React.useState('');
  const keys = metrics.keys;
  if (!keys.length) {
    if (!props.active && metrics.loaded && !metrics.error) {
      return null;
    }
    return (
      <section className="jp-mlops-section jp-mlops-metrics-section">
        <h3 className="jp-mlops-section-title">{trans.__('Metrics')}</h3>
        {metrics.error ? (
          <div className="jp-mlops-panel-error" role="alert">
            {metrics.error}
          </div>
        ) : (
          <p className="jp-mlops-hint">
            {metrics.loaded
              ? trans.__(
                  'No metric logged yet: call jupyter_mlops.log_metric("loss", value) in the notebook.'
                )
              : trans.__('Loading…')}
          </p>
        )}
      </section>
    );
  }
  const shown = keys.filter(k => matches(k.key, filter));
  const charted = shown.filter(
    k => k.total_points >= 2 && metrics.series.has(k.key)
  );
  return (
    <section className="jp-mlops-section jp-mlops-metrics-section">
      <div className="jp-mlops-section-head">
        <h3 className="jp-mlops-section-title">{trans.__('Metrics')}</h3>
        {props.active && (
          <span className="jp-mlops-live" title={trans.__('Updating live')}>
            {trans.__('live')}
          </span>
        )}
        {keys.length >= FILTER_FROM && (
          <KeyFilter value={filter} onChange={setFilter} trans={trans} />
        )}
      </div>
      {metrics.error && (
        <div className="jp-mlops-panel-error" role="alert">
          {metrics.error}
        </div>
      )}
      {charted.length > 0 && (
        <div className="jp-mlops-charts">
          {charted.map(k => {
            const s = metrics.series.get(k.key)!;
            return (
              <figure
                key={k.key}
                className="jp-mlops-chart-card"
                data-key={k.key}
              >
                <figcaption>
                  <span className="jp-mlops-chart-title">{k.key}</span>
                  <span className="jp-mlops-chart-note">
                    {pointsNote([s], trans)}
                  </span>
                </figcaption>
                <LineChart
                  series={[{ label: k.key, points: s.points }]}
                  label={trans.__('%1 by step', k.key)}
                  dataKey={k.key}
                  height={180}
                />
              </figure>
            );
          })}
        </div>
      )}
      <table className="jp-mlops-table jp-mlops-metric-keys">
        <thead>
          <tr>
            <th scope="col">{trans.__('Key')}</th>
            <th scope="col">{trans.__('Latest')}</th>
            <th scope="col">{trans.__('Step')}</th>
            <th scope="col">{trans.__('Min')}</th>
            <th scope="col">{trans.__('Max')}</th>
            <th scope="col">{trans.__('Points')}</th>
          </tr>
        </thead>
        <tbody>
          {shown.map(k => (
            <tr key={k.key} data-key={k.key}>
              <th scope="row">{k.key}</th>
              <td>
                <code title={String(k.latest)}>{formatMetric(k.latest)}</code>
              </td>
              <td>{k.step}</td>
              <td>{k.min === null ? '—' : formatMetric(k.min)}</td>
              <td>{k.max === null ? '—' : formatMetric(k.max)}</td>
              <td>{k.total_points}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}

/** Legend label of a run in overlays. */
export function runLabel(run: { id: string; notebook: string }): string {
  return `${basename(run.notebook)} · ${run.id.slice(0, 8)}`;
}

/**
 * Compare's metric overlays: one chart per key, one line per run, refreshed
 * when the runs change and every few seconds while one of them is going.
 */
export function CompareMetrics(props: {
  runs: IRunDetail[];
  client: MLOpsClient;
  trans: TranslationBundle;
  /** Bumped by the Compare widget whenever it reloaded the runs. */
  version: number;
  /** Milliseconds between refreshes while a run is active (default 3000). */
  liveInterval?: number;
}): JSX.Element | null {
  const { runs, client, trans } = props;
  const [series, setSeries] = React.useState<IMetricSeries[]>([]);
  const [error, setError] = React.useState<string | null>(null);
  const [filter, setFilter] = React.useState('');
  const [tick, setTick] = React.useState(0);
  const ids = runs.slice(0, MAX_SERIES_RUNS).map(r => r.id);
  const keySet = new Set<string>();
  for (const run of runs) {
    Object.keys(run.metrics ?? {}).forEach(k => keySet.add(k));
  }
  const allKeys = [...keySet].sort();
  const keys = allKeys.slice(0, MAX_COMPARE_KEYS);
  const anyActive = runs.some(r => isActive(r.status));
  const idsKey = ids.join(',');
  const keysKey = keys.join('\u0000');

  React.useEffect(() => {
    if (!ids.length || !keys.length) {
      setSeries([]);
      return;
    }
    let alive = true;
    Promise.all(
      chunks(keys, MAX_SERIES_KEYS).map(part =>
        client.metricSeriesSet(ids, part, COMPARE_POINTS)
      )
    ).then(
      sets => {
        if (alive) {
          setSeries(([] as IMetricSeries[]).concat(...sets.map(s => s.series)));
          setError(null);
        }
      },
      (reason: unknown) => {
        if (alive) {
          setError(RunsModel.errorMessage(reason));
        }
      }
    );
    return () => {
      alive = false;
    };
  }, [idsKey, keysKey, props.version, tick]);

  React.useEffect(() => {
    if (!anyActive) {
      return;
    }
    const timer = window.setInterval(
      () => setTick(t => t + 1),
      props.liveInterval ?? 3000
    );
    return () => window.clearInterval(timer);
  }, [anyActive, props.liveInterval]);

  if (!allKeys.length) {
    return null;
  }
  const byKey = new Map<string, IMetricSeries[]>();
  for (const s of series) {
    const list = byKey.get(s.key) ?? [];
    list.push(s);
    byKey.set(s.key, list);
  }
  const runById = new Map(runs.map(r => [r.id, r]));
  const charted = keys.filter(
    k =>
      matches(k, filter) && (byKey.get(k) ?? []).some(s => s.points.length >= 2)
  );
  return (
    <section
      className="jp-mlops-compare-metrics"
      aria-label={trans.__('Metric plots')}
    >
      <div className="jp-mlops-section-head">
        <h3>{trans.__('Metrics by step')}</h3>
        {anyActive && (
          <span className="jp-mlops-live" title={trans.__('Updating live')}>
            {trans.__('live')}
          </span>
        )}
        {keys.length >= FILTER_FROM && (
          <KeyFilter value={filter} onChange={setFilter} trans={trans} />
        )}
      </div>
      {error && (
        <div className="jp-mlops-panel-error" role="alert">
          {error}
        </div>
      )}
      {allKeys.length > keys.length && (
        <p className="jp-mlops-hint">
          {trans.__(
            'Showing the first %1 of %2 metric keys.',
            keys.length,
            allKeys.length
          )}
        </p>
      )}
      {!charted.length && !error && (
        <p className="jp-mlops-hint">
          {series.length
            ? trans.__('No metric has more than one point to plot.')
            : trans.__('Loading…')}
        </p>
      )}
      <div className="jp-mlops-charts">
        {charted.map(key => {
          const list = byKey.get(key) ?? [];
          const lines: IChartSeries[] = ids.map((id, i) => ({
            label: runLabel(runById.get(id) ?? { id, notebook: '' }),
            points: list.find(s => s.run_id === id)?.points ?? NO_POINTS,
            color: i
          }));
          return (
            <figure key={key} className="jp-mlops-chart-card" data-key={key}>
              <figcaption>
                <span className="jp-mlops-chart-title">{key}</span>
                <span className="jp-mlops-chart-note">
                  {pointsNote(list, trans)}
                </span>
              </figcaption>
              <LineChart
                series={lines}
                label={trans.__('%1 by step, one line per run', key)}
                dataKey={key}
                height={220}
              />
            </figure>
          );
        })}
      </div>
    </section>
  );
}
