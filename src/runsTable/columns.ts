/**
 * The runs table's columns: which exist (attributes, then every parameter and
 * metric the server knows), which are shown (remembered in the settings as a
 * list of ids such as `status`, `params.lr`, `metrics.val/loss`) and how a
 * cell reads. Pure functions, tested in src/__tests__/runsTable.spec.ts.
 */
import type { IRunKeys, IRunSummary } from '../api';
import {
  formatDuration,
  formatMetric,
  formatTime,
  formatValue
} from '../format';

/** What a column shows. */
export type ColumnKind = 'attribute' | 'param' | 'metric';

export interface IColumn {
  /** `status`, `params.NAME`, `metrics.NAME`: as stored in the settings. */
  readonly id: string;
  readonly kind: ColumnKind;
  /** The attribute, parameter or metric name. */
  readonly key: string;
  /** Whether the server can sort on it (not the list of tags). */
  readonly sortable: boolean;
}

/** Attribute columns, in the order the chooser lists them. */
export const ATTRIBUTE_COLUMNS = [
  'status',
  'notebook',
  'started',
  'duration',
  'tags',
  'created',
  'finished',
  'kernel',
  'id'
] as const;

/** Shown until the user chooses (the settings' default too). */
export const DEFAULT_COLUMNS: readonly string[] = [
  'status',
  'notebook',
  'started',
  'duration',
  'tags'
];

const PREFIXES: Record<string, ColumnKind> = {
  'params.': 'param',
  'metrics.': 'metric'
};

/** The column of an id, or null for one that names nothing. */
export function parseColumn(id: string): IColumn | null {
  for (const [prefix, kind] of Object.entries(PREFIXES)) {
    if (id.startsWith(prefix) && id.length > prefix.length) {
      return { id, kind, key: id.slice(prefix.length), sortable: true };
    }
  }
  if ((ATTRIBUTE_COLUMNS as readonly string[]).includes(id)) {
    return { id, kind: 'attribute', key: id, sortable: id !== 'tags' };
  }
  return null;
}

export function columnId(kind: ColumnKind, key: string): string {
  return kind === 'attribute' ? key : `${kind}s.${key}`;
}

/** The shown columns from a settings value: known ids, each once, in order. */
export function sanitizeColumns(value: unknown): string[] {
  if (!Array.isArray(value)) {
    return [...DEFAULT_COLUMNS];
  }
  const seen = new Set<string>();
  for (const item of value) {
    if (typeof item === 'string' && parseColumn(item) && !seen.has(item)) {
      seen.add(item);
    }
  }
  return [...seen];
}

/** Show a hidden column (at the end) or hide a shown one. */
export function toggleColumn(columns: readonly string[], id: string): string[] {
  return columns.includes(id)
    ? columns.filter(c => c !== id)
    : [...columns, id];
}

/** Every column the chooser offers: attributes, parameters, metrics (sorted),
 * plus any shown column the server no longer lists. */
export function availableColumns(
  keys: IRunKeys | null,
  shown: readonly string[]
): IColumn[] {
  const ids = [
    ...ATTRIBUTE_COLUMNS,
    ...(keys?.params ?? []).map(k => columnId('param', k)),
    ...(keys?.metrics ?? []).map(k => columnId('metric', k)),
    ...shown
  ];
  const out: IColumn[] = [];
  const seen = new Set<string>();
  for (const id of ids) {
    const column = parseColumn(id);
    if (column && !seen.has(id)) {
      seen.add(id);
      out.push(column);
    }
  }
  return out;
}

/** Metric keys of the shown columns (the `metrics` query parameter). */
export function metricKeys(columns: readonly string[]): string[] {
  return columns
    .map(parseColumn)
    .filter((c): c is IColumn => c !== null && c.kind === 'metric')
    .map(c => c.key);
}

/** A column's header text. */
export function columnLabel(column: IColumn): string {
  return column.kind === 'attribute'
    ? column.key.charAt(0).toUpperCase() + column.key.slice(1)
    : column.id;
}

/** What a cell of `run` shows in `column`. */
export function cellText(run: IRunSummary, column: IColumn): string {
  if (column.kind === 'param') {
    return column.key in run.parameters
      ? formatValue(run.parameters[column.key])
      : '';
  }
  if (column.kind === 'metric') {
    const value = run.metrics?.[column.key];
    return value === undefined ? '' : formatMetric(value);
  }
  switch (column.key) {
    case 'status':
      return run.status;
    case 'notebook':
      return run.notebook;
    case 'started':
      return run.started_at ? formatTime(run.started_at) : '';
    case 'finished':
      return run.finished_at ? formatTime(run.finished_at) : '';
    case 'created':
      return formatTime(run.created_at);
    case 'duration':
      return run.duration_s === null ? '' : formatDuration(run.duration_s);
    case 'tags':
      return run.tags.join(', ');
    case 'kernel':
      return run.kernel;
    case 'id':
      return run.id;
    default:
      return '';
  }
}
