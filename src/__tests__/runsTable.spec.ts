import {
  availableColumns,
  cellText,
  DEFAULT_COLUMNS,
  metricKeys,
  parseColumn,
  sanitizeColumns,
  toggleColumn
} from '../runsTable/columns';
import { searchProblem } from '../runsTable/model';
import {
  buildQuery,
  nextSort,
  orderByText,
  PageCursors,
  quoteName
} from '../runsTable/query';
import { MLOpsAPIError } from '../request';
import { summary } from './runs';

describe('runs table columns', () => {
  it('reads attribute, parameter and metric ids', () => {
    expect(parseColumn('status')).toEqual({
      id: 'status',
      kind: 'attribute',
      key: 'status',
      sortable: true
    });
    expect(parseColumn('tags')?.sortable).toBe(false);
    expect(parseColumn('params.lr')?.kind).toBe('param');
    expect(parseColumn('metrics.val/loss')?.key).toBe('val/loss');
    expect(parseColumn('metrics.')).toBeNull();
    expect(parseColumn('colour')).toBeNull();
  });

  it('keeps known settings values once, in order, and defaults otherwise', () => {
    expect(
      sanitizeColumns([
        'metrics.loss',
        'status',
        'bogus',
        3,
        'status',
        'params.lr'
      ])
    ).toEqual(['metrics.loss', 'status', 'params.lr']);
    expect(sanitizeColumns(undefined)).toEqual([...DEFAULT_COLUMNS]);
    expect(sanitizeColumns('status')).toEqual([...DEFAULT_COLUMNS]);
    expect(sanitizeColumns([])).toEqual([]);
  });

  it('toggles a column at the end or out', () => {
    expect(toggleColumn(['status', 'notebook'], 'metrics.loss')).toEqual([
      'status',
      'notebook',
      'metrics.loss'
    ]);
    expect(toggleColumn(['status', 'notebook'], 'status')).toEqual([
      'notebook'
    ]);
  });

  it('offers attributes, then the known keys, then shown columns the server forgot', () => {
    const ids = availableColumns(
      { params: ['lr'], metrics: ['loss'], tags: ['team'] },
      ['metrics.old', 'status']
    ).map(c => c.id);
    expect(ids.slice(0, 3)).toEqual(['status', 'notebook', 'started']);
    expect(ids.slice(-3)).toEqual(['params.lr', 'metrics.loss', 'metrics.old']);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('asks only for the metric columns', () => {
    expect(
      metricKeys(['status', 'metrics.loss', 'params.lr', 'metrics.a/b'])
    ).toEqual(['loss', 'a/b']);
  });

  it('shows parameters as JSON, missing values as nothing', () => {
    const run = summary({
      parameters: { lr: 0.05, name: 'base' },
      metrics: { loss: 0.25 },
      tags: ['team=nlp', 'nightly']
    });
    expect(cellText(run, parseColumn('params.lr')!)).toBe('0.05');
    expect(cellText(run, parseColumn('params.missing')!)).toBe('');
    expect(cellText(run, parseColumn('metrics.loss')!)).toBe('0.25');
    expect(cellText(run, parseColumn('metrics.none')!)).toBe('');
    expect(cellText(run, parseColumn('tags')!)).toBe('team=nlp, nightly');
    expect(cellText(run, parseColumn('status')!)).toBe('succeeded');
  });
});

describe('runs table queries', () => {
  it('quotes names the search syntax would not read', () => {
    expect(quoteName('val/loss')).toBe('val/loss');
    expect(quoteName('a.b-c:d_e')).toBe('a.b-c:d_e');
    expect(quoteName('val loss')).toBe('`val loss`');
    expect(quoteName('odd`name')).toBe('"odd`name"');
  });

  it('cycles a header: ascending, descending, default', () => {
    const first = nextSort(null, 'metrics.loss');
    expect(first).toEqual({ column: 'metrics.loss', descending: false });
    const second = nextSort(first, 'metrics.loss');
    expect(second).toEqual({ column: 'metrics.loss', descending: true });
    expect(nextSort(second, 'metrics.loss')).toBeNull();
    expect(nextSort(second, 'status')).toEqual({
      column: 'status',
      descending: false
    });
  });

  it('writes order_by as the server reads it', () => {
    expect(
      orderByText({ column: 'metrics.train/loss', descending: false })
    ).toBe('metrics.train/loss ASC');
    expect(orderByText({ column: 'params.my lr', descending: true })).toBe(
      'params.`my lr` DESC'
    );
    expect(orderByText({ column: 'duration', descending: true })).toBe(
      'duration DESC'
    );
    expect(orderByText({ column: 'tags', descending: true })).toBe('');
    expect(orderByText(null)).toBe('');
  });

  it('builds one page query: filter, order, metric columns, cursor', () => {
    expect(
      buildQuery({
        filter: '  params.steps = 60 ',
        sort: { column: 'metrics.loss', descending: false },
        columns: ['status', 'metrics.loss', 'metrics.a,b'],
        pageSize: 50,
        cursor: 'abc'
      })
    ).toEqual({
      limit: 50,
      filter: 'params.steps = 60',
      order_by: 'metrics.loss ASC',
      metrics: ['loss'],
      cursor: 'abc'
    });
    expect(
      buildQuery({
        filter: '',
        sort: null,
        columns: [],
        pageSize: 25,
        cursor: null
      })
    ).toEqual({ limit: 25, order_by: 'created DESC' });
  });

  it('remembers the cursors of the pages seen, for Previous', () => {
    const pages = new PageCursors();
    expect([pages.page, pages.current, pages.hasPrevious]).toEqual([
      0,
      null,
      false
    ]);
    pages.next('c1');
    pages.next('c2');
    expect([pages.page, pages.current]).toEqual([2, 'c2']);
    pages.previous();
    expect(pages.current).toBe('c1');
    pages.reset();
    expect([pages.page, pages.current, pages.hasPrevious]).toEqual([
      0,
      null,
      false
    ]);
    pages.previous();
    expect(pages.page).toBe(0);
  });

  it("takes the server's column out of a 400", () => {
    const error = new MLOpsAPIError(
      "filter: expected a value after '<' at column 23",
      400,
      {
        message: "filter: expected a value after '<' at column 23",
        status: 400,
        column: 23,
        field: 'filter'
      }
    );
    expect(searchProblem(error)).toEqual({
      message: "filter: expected a value after '<' at column 23",
      column: 23
    });
    expect(searchProblem(new Error('offline'))).toEqual({
      message: 'offline',
      column: null
    });
  });
});
