/**
 * Line charts of metric series, drawn with uPlot (a small, fast canvas
 * charting library) in JupyterLab's theme colors.
 *
 * Canvas drawing needs concrete colors, so they are read from CSS custom
 * properties (`--jp-mlops-series-N`, `--jp-ui-font-color2`, ...) of the chart
 * element when a chart is built, and charts are rebuilt when the theme
 * changes ({@link notifyThemeChanged}).
 */
import { ISignal, Signal } from '@lumino/signaling';
import * as React from 'react';
import uPlot from 'uplot';

import type { MetricPoint } from './api';
import { formatMetric } from './format';

/** Number of series colors defined in style/base.css. */
export const SERIES_COLORS = 8;

/** One line of a chart. */
export interface IChartSeries {
  /** Legend label. */
  label: string;
  /** `[step, value]` points in step order; null values are gaps. */
  points: ReadonlyArray<MetricPoint>;
  /** Index into the theme's series colors (default: the series' position). */
  color?: number;
}

class ThemeNotifier {
  readonly changed: ISignal<ThemeNotifier, void>;
  constructor() {
    this.changed = this._changed;
  }
  emit(): void {
    this._changed.emit();
  }
  private _changed = new Signal<ThemeNotifier, void>(this);
}

const theme = new ThemeNotifier();

/** Tell every chart that the theme changed (they redraw in its colors). */
export function notifyThemeChanged(): void {
  theme.emit();
}

/** A counter that changes whenever the theme changes. */
export function useThemeVersion(): number {
  const [version, setVersion] = React.useState(0);
  React.useEffect(() => {
    const bump = () => setVersion(v => v + 1);
    theme.changed.connect(bump);
    return () => {
      theme.changed.disconnect(bump);
    };
  }, []);
  return version;
}

/** Tick spacings of the step axis: whole steps only (1, 2, 5, 10, 20, ...). */
const STEP_INCREMENTS = Array.from({ length: 16 }, (_, e) =>
  [1, 2, 5].map(m => m * 10 ** e)
).reduce((all, part) => all.concat(part), []);

/** Axis tick labels: as {@link formatMetric}, without trailing noise. */
function formatTick(value: number): string {
  if (value === 0) {
    return '0';
  }
  const abs = Math.abs(value);
  if (abs >= 1e5 || abs < 1e-3) {
    return value.toExponential(1);
  }
  return String(Number(value.toPrecision(6)));
}

/**
 * Put several series on one x axis (uPlot's data layout): the union of
 * their steps, `undefined` where a series has no point at a step (drawn
 * connected) and `null` for NaN (drawn as a gap). A step logged twice in a
 * series keeps its last value. One series is passed through as it is.
 */
export function alignSeries(
  series: ReadonlyArray<IChartSeries>
): uPlot.AlignedData {
  if (series.length === 1) {
    const points = series[0].points;
    return [points.map(p => p[0]), points.map(p => p[1])];
  }
  const steps = new Set<number>();
  for (const s of series) {
    for (const [step] of s.points) {
      steps.add(step);
    }
  }
  const xs = [...steps].sort((a, b) => a - b);
  const index = new Map(xs.map((x, i) => [x, i]));
  const columns = series.map(s => {
    const ys: Array<number | null | undefined> = new Array(xs.length).fill(
      undefined
    );
    for (const [step, value] of s.points) {
      ys[index.get(step)!] = value;
    }
    return ys;
  });
  return [xs, ...columns] as uPlot.AlignedData;
}

function cssVar(el: Element, name: string, fallback: string): string {
  const value = getComputedStyle(el).getPropertyValue(name).trim();
  return value || fallback;
}

interface IColors {
  series: string[];
  axis: string;
  grid: string;
  font: string;
}

function themeColors(el: Element): IColors {
  const fallback = [
    '#1976d2',
    '#f57c00',
    '#388e3c',
    '#d32f2f',
    '#7b1fa2',
    '#0097a7',
    '#c2185b',
    '#5d4037'
  ];
  // uPlot needs the size in whole pixels (theme sizes are in em): take the
  // computed size of the chart element (style/base.css sets it).
  const px = Math.round(parseFloat(getComputedStyle(el).fontSize) || 11);
  const family = cssVar(el, '--jp-ui-font-family', 'sans-serif');
  return {
    series: fallback.map((f, i) => cssVar(el, `--jp-mlops-series-${i}`, f)),
    axis: cssVar(el, '--jp-ui-font-color2', '#616161'),
    grid: cssVar(el, '--jp-border-color2', '#e0e0e0'),
    font: `${px}px ${family}`
  };
}

function chartOptions(
  series: ReadonlyArray<IChartSeries>,
  colors: IColors,
  width: number,
  height: number,
  xLabel: string
): uPlot.Options {
  const few = series.every(s => s.points.length <= 60);
  const axis = {
    stroke: colors.axis,
    font: colors.font,
    labelFont: colors.font,
    grid: { stroke: colors.grid, width: 1 },
    ticks: { stroke: colors.grid, width: 1, size: 4 }
  };
  return {
    width,
    height,
    pxAlign: false,
    scales: { x: { time: false } },
    cursor: { drag: { x: true, y: false, setScale: true } },
    legend: { show: true, live: true },
    axes: [
      {
        ...axis,
        label: xLabel,
        labelSize: 16,
        size: 32,
        incrs: STEP_INCREMENTS
      },
      {
        ...axis,
        size: 56,
        values: (_u: uPlot, splits: number[]) => splits.map(formatTick)
      }
    ],
    series: [
      {
        label: xLabel,
        value: (_u: uPlot, v: number | null) => (v === null ? '—' : String(v))
      },
      ...series.map((s, i) => {
        const color = colors.series[(s.color ?? i) % colors.series.length];
        return {
          label: s.label,
          stroke: color,
          width: 1.5,
          spanGaps: false,
          points: { show: few || s.points.length <= 1, size: 5, fill: color },
          value: (
            _u: uPlot,
            v: number | null | undefined,
            _series: number,
            idx: number | null
          ) => (idx === null || v === undefined ? '—' : formatMetric(v))
        };
      })
    ]
  };
}

/** Props of {@link LineChart}. */
export interface ILineChartProps {
  series: ReadonlyArray<IChartSeries>;
  /** Chart height in pixels (default 200). */
  height?: number;
  /** Label of the x axis (default `step`). */
  xLabel?: string;
  /** Accessible name of the chart. */
  label: string;
  /** Extra class and data attributes of the chart element. */
  className?: string;
  dataKey?: string;
}

/**
 * A line chart of one or more metric series (steps on x). The element
 * carries `data-series` (number of lines) and `data-points` (points drawn)
 * so tests and tools can read what it shows.
 */
export function LineChart(props: ILineChartProps): JSX.Element {
  const { series } = props;
  const height = props.height ?? 200;
  const xLabel = props.xLabel ?? 'step';
  const host = React.useRef<HTMLDivElement>(null);
  const plot = React.useRef<uPlot | null>(null);
  /** The points arrays on the chart now. */
  const drawn = React.useRef<ReadonlyArray<ReadonlyArray<MetricPoint>>>([]);
  const themeVersion = useThemeVersion();
  // Rebuild when what the options depend on changes; otherwise only setData.
  const shape = [
    series.length,
    series.map(s => `${s.label}\u0000${s.color ?? ''}`).join('\u0001'),
    series.every(s => s.points.length <= 60),
    height,
    xLabel,
    themeVersion
  ].join('|');

  React.useEffect(() => {
    const el = host.current;
    if (!el) {
      return;
    }
    const width = Math.max(160, el.clientWidth || 400);
    const colors = themeColors(el);
    const u = new uPlot(
      chartOptions(series, colors, width, height, xLabel),
      alignSeries(series),
      el
    );
    plot.current = u;
    drawn.current = series.map(s => s.points);
    let frame = 0;
    const observer =
      typeof ResizeObserver !== 'undefined'
        ? new ResizeObserver(() => {
            cancelAnimationFrame(frame);
            frame = requestAnimationFrame(() => {
              const w = el.clientWidth;
              if (w > 0 && Math.abs(w - u.width) > 1) {
                u.setSize({ width: w, height });
              }
            });
          })
        : null;
    observer?.observe(el);
    return () => {
      observer?.disconnect();
      cancelAnimationFrame(frame);
      u.destroy();
      plot.current = null;
    };
  }, [shape]);

  // Redraw only when a series' points changed (they are replaced, never
  // mutated): re-renders of the host keep the chart as it is, zoom included.
  React.useEffect(() => {
    const current = series.map(s => s.points);
    const same =
      current.length === drawn.current.length &&
      current.every((p, i) => p === drawn.current[i]);
    if (!same) {
      drawn.current = current;
      plot.current?.setData(alignSeries(series));
    }
  }, [series]);

  const points = series.reduce(
    (n, s) => n + s.points.filter(p => p[1] !== null).length,
    0
  );
  return (
    <div
      className={`jp-mlops-chart ${props.className ?? ''}`}
      role="figure"
      aria-label={props.label}
      data-key={props.dataKey}
      data-series={series.length}
      data-points={points}
    >
      <div className="jp-mlops-chart-plot" ref={host} />
    </div>
  );
}
