/**
 * Small React pieces shared by the run list, the run detail and Compare.
 */
import { TranslationBundle } from '@jupyterlab/translation';
import * as React from 'react';

import type { IRunSummary, JSONObject, RunStatus } from './api';
import { formatDuration, formatValue, runSeconds, statusLabel } from './format';
import { useInterval } from './polling';
import { isActive } from './status';

/** A colored status badge (colors from theme variables, see style/base.css). */
export function StatusBadge(props: {
  status: RunStatus;
  trans: TranslationBundle;
  reason?: string | null;
}): JSX.Element {
  return (
    <span
      className={`jp-mlops-badge jp-mlops-status-${props.status}`}
      data-status={props.status}
      title={props.reason ?? undefined}
    >
      {statusLabel(props.status, props.trans)}
    </span>
  );
}

/** `i/N` cells and elapsed time of an active run, or the duration of a finished one. */
export function Progress(props: {
  run: IRunSummary;
  now: number;
  trans: TranslationBundle;
}): JSX.Element | null {
  const { run, now, trans } = props;
  const seconds = runSeconds(run, now);
  if (isActive(run.status)) {
    const cells =
      run.cells_total !== null
        ? `${run.cells_done}/${run.cells_total}`
        : run.status === 'running'
          ? `${run.cells_done}`
          : '';
    const fraction =
      run.cells_total && run.cells_total > 0
        ? Math.min(1, run.cells_done / run.cells_total)
        : 0;
    return (
      <span className="jp-mlops-progress">
        {cells && (
          <span
            className="jp-mlops-cells"
            title={trans.__('cells done / total')}
          >
            {cells}
          </span>
        )}
        {run.cells_total ? (
          <span
            className="jp-mlops-progressbar"
            role="progressbar"
            aria-valuemin={0}
            aria-valuemax={run.cells_total}
            aria-valuenow={run.cells_done}
            aria-label={trans.__('Cell progress')}
          >
            <span style={{ width: `${Math.round(fraction * 100)}%` }} />
          </span>
        ) : null}
        {seconds !== null && (
          <span className="jp-mlops-elapsed" title={trans.__('elapsed')}>
            {formatDuration(seconds)}
          </span>
        )}
      </span>
    );
  }
  if (seconds === null) {
    return null;
  }
  return (
    <span className="jp-mlops-progress">
      <span className="jp-mlops-duration" title={trans.__('duration')}>
        {formatDuration(seconds)}
      </span>
    </span>
  );
}

/** `lr=0.1 · epochs=3` */
export function ParamsGlance(props: {
  parameters: JSONObject;
  max?: number;
}): JSX.Element | null {
  const entries = Object.entries(props.parameters);
  if (!entries.length) {
    return null;
  }
  const max = props.max ?? 4;
  const text = entries.map(([k, v]) => `${k}=${formatValue(v)}`);
  return (
    <span className="jp-mlops-params" title={text.join('\n')}>
      {text.slice(0, max).join(' · ')}
      {entries.length > max ? ` · +${entries.length - max}` : ''}
    </span>
  );
}

/** A re-render every `ms` while `active` (for elapsed times). */
export function useTicker(active: boolean, ms = 1000): number {
  const [now, setNow] = React.useState(Date.now());
  useInterval(active, ms, () => setNow(Date.now()));
  return active ? now : Date.now();
}

/** An error shown above a view's content (announced when it appears). */
export function ErrorBanner(props: {
  error: string | null | undefined;
  className?: string;
}): JSX.Element | null {
  if (!props.error) {
    return null;
  }
  return (
    <div className={props.className ?? 'jp-mlops-panel-error'} role="alert">
      {props.error}
    </div>
  );
}

/** A "Loading…" line (a status for assistive technology). */
export function Loading(props: {
  trans: TranslationBundle;
  className?: string;
}): JSX.Element {
  return (
    <div className={props.className ?? 'jp-mlops-loading'} role="status">
      {props.trans.__('Loading…')}
    </div>
  );
}

/** The header row of a table: one column header per label. */
export function TableHead(props: { labels: string[] }): JSX.Element {
  return (
    <thead>
      <tr>
        {props.labels.map(label => (
          <th scope="col" key={label}>
            {label}
          </th>
        ))}
      </tr>
    </thead>
  );
}

/** A titled section of a view (`h3`), as in the run detail. */
export function Section(props: {
  title: string;
  className?: string;
  head?: React.ReactNode;
  children: React.ReactNode;
}): JSX.Element {
  const title = <h3 className="jp-mlops-section-title">{props.title}</h3>;
  return (
    <section className={`jp-mlops-section ${props.className ?? ''}`}>
      {props.head ? (
        <div className="jp-mlops-section-head">
          {title}
          {props.head}
        </div>
      ) : (
        title
      )}
      {props.children}
    </section>
  );
}

/** The "live" dot of a view that updates itself. */
export function LiveBadge(props: { trans: TranslationBundle }): JSX.Element {
  return (
    <span className="jp-mlops-live" title={props.trans.__('Updating live')}>
      {props.trans.__('live')}
    </span>
  );
}
