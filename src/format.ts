/**
 * Small display helpers shared by the views.
 */
import type { TranslationBundle } from '@jupyterlab/translation';

import type { IRunSummary, JSONValue, RunStatus } from './api';
import { isActive } from './status';

/** `1.2 s`, `3 min 04 s`, `2 h 05 min`. */
export function formatDuration(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !isFinite(seconds)) {
    return '';
  }
  if (seconds < 0) {
    seconds = 0;
  }
  if (seconds < 10) {
    return `${seconds.toFixed(1)} s`;
  }
  if (seconds < 60) {
    return `${Math.round(seconds)} s`;
  }
  const total = Math.round(seconds);
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  if (h > 0) {
    return `${h} h ${String(m).padStart(2, '0')} min`;
  }
  return `${m} min ${String(s).padStart(2, '0')} s`;
}

/** Seconds an active run has been going, or a finished one took. */
export function runSeconds(run: IRunSummary, now = Date.now()): number | null {
  if (isActive(run.status)) {
    return run.started_at ? (now - Date.parse(run.started_at)) / 1000 : null;
  }
  if (run.started_at && run.finished_at) {
    return (Date.parse(run.finished_at) - Date.parse(run.started_at)) / 1000;
  }
  return run.duration_s;
}

/** Local date and time, short. */
export function formatTime(iso: string | null | undefined): string {
  if (!iso) {
    return '';
  }
  const date = new Date(iso);
  if (isNaN(date.getTime())) {
    return iso;
  }
  return date.toLocaleString(undefined, {
    year: 'numeric',
    month: 'short',
    day: 'numeric',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit'
  });
}

/** `3 min ago`. */
export function formatAgo(
  iso: string | null | undefined,
  trans: TranslationBundle,
  now = Date.now()
): string {
  if (!iso) {
    return '';
  }
  const seconds = Math.max(0, (now - Date.parse(iso)) / 1000);
  if (seconds < 45) {
    return trans.__('just now');
  }
  if (seconds < 3600) {
    return trans.__('%1 min ago', Math.round(seconds / 60));
  }
  if (seconds < 86400) {
    return trans.__('%1 h ago', Math.round(seconds / 3600));
  }
  return formatTime(iso);
}

/** A parameter value as short JSON text. */
export function formatValue(value: JSONValue | undefined): string {
  return value === undefined ? '' : JSON.stringify(value);
}

/** Human label of a status. */
export function statusLabel(
  status: RunStatus,
  trans: TranslationBundle
): string {
  const labels: Record<RunStatus, string> = {
    queued: trans.__('queued'),
    starting: trans.__('starting'),
    running: trans.__('running'),
    succeeded: trans.__('succeeded'),
    failed: trans.__('failed'),
    cancelled: trans.__('cancelled'),
    timed_out: trans.__('timed out'),
    lost: trans.__('lost')
  };
  return labels[status] ?? String(status);
}

/**
 * A metric value as short text: 4 significant digits, exponent notation for
 * very large or small magnitudes, `NaN` for null.
 */
export function formatMetric(value: number | null | undefined): string {
  if (value === null || value === undefined) {
    return 'NaN';
  }
  if (!isFinite(value)) {
    return String(value);
  }
  const abs = Math.abs(value);
  if (abs !== 0 && (abs >= 1e6 || abs < 1e-3)) {
    return value.toExponential(2);
  }
  if (Number.isInteger(value)) {
    return String(value);
  }
  return String(Number(value.toPrecision(4)));
}

/** `1.2 kB` */
export function formatBytes(size: number): string {
  if (size < 1024) {
    return `${size} B`;
  }
  const units = ['kB', 'MB', 'GB', 'TB'];
  let value = size;
  let unit = -1;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(value < 10 ? 1 : 0)} ${units[unit]}`;
}

/** Short commit sha. */
export function shortSha(sha: string | null | undefined): string {
  return sha ? sha.slice(0, 10) : '';
}

/** Last path component. */
export function basename(path: string): string {
  const parts = path.split('/');
  return parts[parts.length - 1] || path;
}

/** The short form of a run id shown in titles and labels. */
export function shortId(id: string): string {
  return id.slice(0, 8);
}

/** `train.ipynb · 1a2b3c4d`: a run by its notebook and short id. */
export function runLabel(run: { id: string; notebook: string }): string {
  return `${basename(run.notebook)} · ${shortId(run.id)}`;
}

/** `in 4 s`, `in 12 min`, `in 3 h 05 min`; a later date in full. */
export function formatIn(
  iso: string,
  trans: TranslationBundle,
  now = Date.now()
): string {
  const seconds = (Date.parse(iso) - now) / 1000;
  if (!isFinite(seconds)) {
    return iso;
  }
  if (seconds <= 0.5) {
    return trans.__('due now');
  }
  if (seconds < 60) {
    return trans.__('in %1 s', Math.round(seconds));
  }
  if (seconds < 3600) {
    return trans.__('in %1 min', Math.round(seconds / 60));
  }
  if (seconds < 86400) {
    const h = Math.floor(seconds / 3600);
    const m = Math.round((seconds % 3600) / 60);
    return trans.__('in %1 h %2 min', h, String(m).padStart(2, '0'));
  }
  return formatTime(iso);
}

/** `11:09:00 PM` today, `Nov 24, 11:09 PM` another day. */
export function formatClock(iso: string, now = Date.now()): string {
  const date = new Date(iso);
  if (isNaN(date.getTime())) {
    return iso;
  }
  if (date.toDateString() === new Date(now).toDateString()) {
    return date.toLocaleTimeString(undefined, {
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit'
    });
  }
  return date.toLocaleString(undefined, {
    month: 'short',
    day: 'numeric',
    hour: '2-digit',
    minute: '2-digit'
  });
}

/** Remove ANSI color codes from a traceback. */
export function stripAnsi(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/\u001b\[[0-9;]*[A-Za-z]/g, '');
}
