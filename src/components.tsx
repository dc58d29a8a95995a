/**
 * Small React pieces shared by the run list, the run detail and Compare.
 */
import { TranslationBundle } from '@jupyterlab/translation';
import * as React from 'react';

import { IRunSummary, isActive, JSONObject, RunStatus } from './api';
import { formatDuration, formatValue, runSeconds, statusLabel } from './format';

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
  React.useEffect(() => {
    if (!active) {
      return;
    }
    const timer = window.setInterval(() => setNow(Date.now()), ms);
    return () => window.clearInterval(timer);
  }, [active, ms]);
  return active ? now : Date.now();
}

/** An inline validation message under a form field (announced when it appears). */
export function FieldError(props: {
  id?: string;
  error?: string | null;
}): JSX.Element | null {
  if (!props.error) {
    return null;
  }
  return (
    <div id={props.id} className="jp-mlops-field-error" role="alert">
      {props.error}
    </div>
  );
}

/**
 * A labelled form field: the label (for the control with `id`), the control,
 * then its help line and its error, with the styles of every form of ours.
 */
export function Field(props: {
  id: string;
  label: React.ReactNode;
  error?: string | null;
  help?: React.ReactNode;
  children: React.ReactNode;
}): JSX.Element {
  return (
    <div className="jp-mlops-field">
      <label htmlFor={props.id} className="jp-mlops-field-label">
        {props.label}
      </label>
      {props.children}
      {props.help ? (
        <div className="jp-mlops-field-help">{props.help}</div>
      ) : null}
      <FieldError error={props.error} />
    </div>
  );
}

/** The classes of a text input or select, marked invalid when it has an error. */
export function inputClass(error?: string | null, extra = ''): string {
  return `jp-mod-styled jp-mlops-input${extra ? ` ${extra}` : ''}${error ? ' jp-mlops-invalid' : ''}`;
}
