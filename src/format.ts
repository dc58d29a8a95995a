/**
 * Small display helpers shared by the views.
 */
import { TranslationBundle } from '@jupyterlab/translation';

import { IRunSummary, isActive, JSONValue, RunStatus } from './api';

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
  switch (status) {
    case 'queued':
      return trans.__('queued');
    case 'starting':
      return trans.__('starting');
    case 'running':
      return trans.__('running');
    case 'succeeded':
      return trans.__('succeeded');
    case 'failed':
      return trans.__('failed');
    case 'cancelled':
      return trans.__('cancelled');
    case 'timed_out':
      return trans.__('timed out');
    case 'lost':
      return trans.__('lost');
    default:
      return String(status);
  }
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
