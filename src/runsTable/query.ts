/**
 * From the runs table's state to the `GET runs` query: the sort as an
 * `order_by` text (names quoted as the search syntax wants), the filter, the
 * metric columns and the page cursor. Pure, tested in
 * src/__tests__/runsTable.spec.ts.
 */
import type { IRunQuery } from '../api';
import { IColumn, metricKeys, parseColumn } from './columns';

/** A server-side sort: a column id and its direction. */
export interface ISort {
  readonly column: string;
  readonly descending: boolean;
}

/** Characters a name may have unquoted in the search syntax. */
const PLAIN_NAME = /^[A-Za-z0-9_/.\-:]+$/;

/** A parameter or metric name as the search syntax reads it. */
export function quoteName(key: string): string {
  if (PLAIN_NAME.test(key)) {
    return key;
  }
  return key.includes('`') ? `"${key}"` : `\`${key}\``;
}

/** The field of a column in a filter or order_by (`params.lr`, `status`). */
export function fieldName(column: IColumn): string {
  if (column.kind === 'attribute') {
    return column.key;
  }
  return `${column.kind}s.${quoteName(column.key)}`;
}

/** The `order_by` of a sort ('' for the server's default, newest first). */
export function orderByText(sort: ISort | null): string {
  const column = sort ? parseColumn(sort.column) : null;
  if (!sort || !column || !column.sortable) {
    return '';
  }
  return `${fieldName(column)} ${sort.descending ? 'DESC' : 'ASC'}`;
}

/** A header click: ascending, then descending, then back to the default. */
export function nextSort(current: ISort | null, column: string): ISort | null {
  if (!current || current.column !== column) {
    return { column, descending: false };
  }
  return current.descending ? null : { column, descending: true };
}

export interface ITableQueryState {
  readonly filter: string;
  readonly sort: ISort | null;
  readonly columns: readonly string[];
  readonly pageSize: number;
  readonly cursor: string | null;
}

/** The `GET runs` query of one page of the table. */
export function buildQuery(state: ITableQueryState): IRunQuery {
  const query: IRunQuery = { limit: state.pageSize };
  const orderBy = orderByText(state.sort);
  // Without a filter or an order the server still takes order_by: ask for
  // the newest first explicitly, so every page uses the same cursor kind.
  query.order_by = orderBy || 'created DESC';
  if (state.filter.trim()) {
    query.filter = state.filter.trim();
  }
  const metrics = metricKeys(state.columns).filter(k => !k.includes(','));
  if (metrics.length) {
    query.metrics = metrics.slice(0, 20);
  }
  if (state.cursor) {
    query.cursor = state.cursor;
  }
  return query;
}

/**
 * The cursors of the pages seen so far, so Previous goes back exactly: page
 * `n` is read with `cursors[n]` (null for the first).
 */
export class PageCursors {
  get page(): number {
    return this._cursors.length - 1;
  }

  get current(): string | null {
    return this._cursors[this._cursors.length - 1];
  }

  get hasPrevious(): boolean {
    return this._cursors.length > 1;
  }

  /** Move on to the page after the current one. */
  next(cursor: string): void {
    this._cursors.push(cursor);
  }

  previous(): void {
    if (this._cursors.length > 1) {
      this._cursors.pop();
    }
  }

  /** Back to the first page (the filter or the order changed). */
  reset(): void {
    this._cursors = [null];
  }

  private _cursors: Array<string | null> = [null];
}
