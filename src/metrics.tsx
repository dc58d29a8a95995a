/**
 * Metric plots: the live series of one run (run detail, from its
 * {@link RunMetrics} model) and overlays of the same key across runs
 * (Compare).
 */
import { TranslationBundle } from '@jupyterlab/translation';
import * as React from 'react';

import type {
  IMetricSeries,
  IRunDetail,
  MetricPoint,
  MLOpsClient
} from './api';
import { MAX_SERIES_KEYS, MAX_SERIES_RUNS } from './api';
import { IChartSeries, LineChart } from './chart';
import { ErrorBanner, LiveBadge, Section, TableHead } from './components';
import { formatMetric, runLabel } from './format';
import { useInterval } from './polling';
import { errorMessage } from './request';
import { chunks, RunMetrics } from './runMetrics';
import { isActive } from './status';

/** Points per series asked for in Compare overlays. */
export const COMPARE_POINTS = 500;
/** Most keys Compare plots (each key is one overlay chart). */
export const MAX_COMPARE_KEYS = 60;
const NO_POINTS: MetricPoint[] = [];
/** Show a key filter above the charts from this many keys on. */
const FILTER_FROM = 7;

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

/** Whether a key passes the key filter (case-insensitive substring). */
export function matchesKey(key: string, filter: string): boolean {
  return !filter || key.toLowerCase().includes(filter.trim().toLowerCase());
}

/** `1,234 points`, or `… points, downsampled` when the server thinned them. */
export function pointsNote(
  series: ReadonlyArray<IMetricSeries>,
  trans: TranslationBundle
): string {
  const total = series.reduce((n, s) => n + s.total_points, 0);
  const sampled = series.some(s => s.downsampled);
  return sampled
    ? trans.__('%1 points, downsampled', total)
    : trans._n('%1 point', '%1 points', total);
}

/** The "live" dot and the key filter of a metrics heading. */
function MetricsHead(props: {
  live: boolean;
  keyCount: number;
  filter: string;
  onFilter: (value: string) => void;
  trans: TranslationBundle;
}): JSX.Element {
  return (
    <>
      {props.live && <LiveBadge trans={props.trans} />}
      {props.keyCount >= FILTER_FROM && (
        <KeyFilter
          value={props.filter}
          onChange={props.onFilter}
          trans={props.trans}
        />
      )}
    </>
  );
}

/** One chart of one key: its title, how many points, and the lines. */
function ChartCard(props: {
  metricKey: string;
  series: ReadonlyArray<IMetricSeries>;
  lines: IChartSeries[];
  label: string;
  height: number;
  trans: TranslationBundle;
}): JSX.Element {
  const key = props.metricKey;
  return (
    <figure className="jp-mlops-chart-card" data-key={key}>
      <figcaption>
        <span className="jp-mlops-chart-title">{key}</span>
        <span className="jp-mlops-chart-note">
          {pointsNote(props.series, props.trans)}
        </span>
      </figcaption>
      <LineChart
        series={props.lines}
        label={props.label}
        dataKey={key}
        height={props.height}
      />
    </figure>
  );
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
      <Section title={trans.__('Metrics')} className="jp-mlops-metrics-section">
        {metrics.error ? (
          <ErrorBanner error={metrics.error} />
        ) : (
          <p className="jp-mlops-hint">
            {metrics.loaded
              ? trans.__(
                  'No metric logged yet: call jupyter_mlops.log_metric("loss", value) in the notebook.'
                )
              : trans.__('Loading…')}
          </p>
        )}
      </Section>
    );
  }
  const shown = keys.filter(k => matchesKey(k.key, filter));
  const charted = shown.filter(
    k => k.total_points >= 2 && metrics.series.has(k.key)
  );
  return (
    <Section
      title={trans.__('Metrics')}
      className="jp-mlops-metrics-section"
      head={
        <MetricsHead
          live={props.active}
          keyCount={keys.length}
          filter={filter}
          onFilter={setFilter}
          trans={trans}
        />
      }
    >
      <ErrorBanner error={metrics.error} />
      {charted.length > 0 && (
        <div className="jp-mlops-charts">
          {charted.map(k => {
            const s = metrics.series.get(k.key)!;
            return (
              <ChartCard
                key={k.key}
                metricKey={k.key}
                series={[s]}
                lines={[{ label: k.key, points: s.points }]}
                label={trans.__('%1 by step', k.key)}
                height={180}
                trans={trans}
              />
            );
          })}
        </div>
      )}
      <table className="jp-mlops-table jp-mlops-metric-keys">
        <TableHead
          labels={[
            trans.__('Key'),
            trans.__('Latest'),
            trans.__('Step'),
            trans.__('Min'),
            trans.__('Max'),
            trans.__('Points')
          ]}
        />
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
    </Section>
  );
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
          setError(errorMessage(reason));
        }
      }
    );
    return () => {
      alive = false;
    };
  }, [idsKey, keysKey, props.version, tick]);

  useInterval(anyActive, props.liveInterval ?? 3000, () => setTick(t => t + 1));

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
      matchesKey(k, filter) &&
      (byKey.get(k) ?? []).some(s => s.points.length >= 2)
  );
  return (
    <section
      className="jp-mlops-compare-metrics"
      aria-label={trans.__('Metric plots')}
    >
      <div className="jp-mlops-section-head">
        <h3>{trans.__('Metrics by step')}</h3>
        <MetricsHead
          live={anyActive}
          keyCount={keys.length}
          filter={filter}
          onFilter={setFilter}
          trans={trans}
        />
      </div>
      <ErrorBanner error={error} />
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
            <ChartCard
              key={key}
              metricKey={key}
              series={list}
              lines={lines}
              label={trans.__('%1 by step, one line per run', key)}
              height={220}
              trans={trans}
            />
          );
        })}
      </div>
    </section>
  );
}
