/**
 * The runs table's state: the applied filter and sort, the shown columns,
 * the current page (server-side, by cursor), the selection, the known keys
 * for the column chooser, and the server's complaint about a filter.
 */
import { ISignal, Signal } from '@lumino/signaling';

import type { IRunKeys, IRunSummary, MLOpsClient } from '../api';
import { MLOpsAPIError, errorMessage } from '../request';
import { DEFAULT_COLUMNS, sanitizeColumns } from './columns';
import { buildQuery, ISort, nextSort, PageCursors } from './query';

/** What the server said about the filter, order or cursor (400). */
export interface ISearchProblem {
  readonly message: string;
  /** 1-based column in the filter, when the mistake is in it. */
  readonly column: number | null;
}

/** The problem of a failed page request, for the inline message. */
export function searchProblem(error: unknown): ISearchProblem {
  if (
    error instanceof MLOpsAPIError &&
    error.body &&
    typeof error.body === 'object'
  ) {
    const body = error.body as { column?: unknown };
    const column = typeof body.column === 'number' ? body.column : null;
    return { message: error.message, column };
  }
  return { message: errorMessage(error), column: null };
}

export class RunsTableModel {
  constructor(options: RunsTableModel.IOptions) {
    this._client = options.client;
    this.pageSize = options.pageSize ?? 50;
  }

  /** Emitted whenever anything shown changes. */
  get changed(): ISignal<this, void> {
    return this._changed;
  }

  pageSize: number;
  filter = '';
  sort: ISort | null = null;
  columns: string[] = [...DEFAULT_COLUMNS];
  rows: IRunSummary[] = [];
  nextCursor: string | null = null;
  problem: ISearchProblem | null = null;
  loading = false;
  keys: IRunKeys | null = null;
  readonly selected = new Set<string>();

  /** Called with the new columns after the user changed them (to save them). */
  onColumnsChanged: ((columns: string[]) => void) | null = null;

  get page(): number {
    return this._cursors.page;
  }

  get hasPrevious(): boolean {
    return this._cursors.hasPrevious;
  }

  /** The columns from the settings (no reload unless metric columns changed). */
  restoreColumns(value: unknown): void {
    const columns = sanitizeColumns(value);
    if (columns.join('\n') === this.columns.join('\n')) {
      return;
    }
    this.columns = columns;
    void this.load();
  }

  setColumns(columns: string[]): void {
    this.columns = sanitizeColumns(columns);
    this.onColumnsChanged?.(this.columns);
    void this.load();
  }

  applyFilter(text: string): Promise<void> {
    this.filter = text;
    this._cursors.reset();
    return this.load();
  }

  sortBy(column: string): Promise<void> {
    this.sort = nextSort(this.sort, column);
    this._cursors.reset();
    return this.load();
  }

  nextPage(): Promise<void> {
    if (!this.nextCursor) {
      return Promise.resolve();
    }
    this._cursors.next(this.nextCursor);
    return this.load();
  }

  previousPage(): Promise<void> {
    this._cursors.previous();
    return this.load();
  }

  toggleSelected(id: string): void {
    if (!this.selected.delete(id)) {
      this.selected.add(id);
    }
    this._changed.emit();
  }

  setAllSelected(selected: boolean): void {
    this.selected.clear();
    if (selected) {
      this.rows.forEach(r => this.selected.add(r.id));
    }
    this._changed.emit();
  }

  /** Read the current page again (the selection keeps the runs still shown). */
  async load(): Promise<void> {
    const ticket = ++this._ticket;
    this.loading = true;
    this._changed.emit();
    const query = buildQuery({
      filter: this.filter,
      sort: this.sort,
      columns: this.columns,
      pageSize: this.pageSize,
      cursor: this._cursors.current
    });
    try {
      const page = await this._client.listRuns(query);
      if (ticket !== this._ticket) {
        return;
      }
      this.rows = page.runs;
      this.nextCursor = page.next_cursor;
      this.problem = null;
      const shown = new Set(page.runs.map(r => r.id));
      [...this.selected]
        .filter(id => !shown.has(id))
        .forEach(id => this.selected.delete(id));
    } catch (error) {
      if (ticket !== this._ticket) {
        return;
      }
      this.problem = searchProblem(error);
      this.rows = [];
      this.nextCursor = null;
    }
    this.loading = false;
    this._changed.emit();
  }

  /** The names for the column chooser (cheap on the server). */
  async loadKeys(): Promise<void> {
    try {
      this.keys = await this._client.runKeys();
    } catch (error) {
      console.error('jupyter-mlops: could not list run keys.', error);
    }
    this._changed.emit();
  }

  private _client: MLOpsClient;
  private _cursors = new PageCursors();
  private _ticket = 0;
  private _changed = new Signal<this, void>(this);
}

export namespace RunsTableModel {
  export interface IOptions {
    client: MLOpsClient;
    pageSize?: number;
  }
}
