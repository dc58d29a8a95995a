import {
  ACTIVE_FILTER,
  compareNewestFirst,
  DEFAULT_SORT,
  EMPTY_FILTERS,
  FAILED_FILTER,
  hasFilters,
  matchesFilters,
  nextSort,
  parseColumns,
  sortRuns,
  statusesOf,
  statusFilterValue
} from '../runList';
import { isActive, isNewer } from '../status';
import { summary } from './runs';

describe('parseColumns', () => {
  it('splits, trims and drops empty and repeated keys', () => {
    expect(parseColumns(' loss, acc ,, loss,val/acc')).toEqual([
      'loss',
      'acc',
      'val/acc'
    ]);
    expect(parseColumns(['a', ' b '])).toEqual(['a', 'b']);
  });

  it('keeps at most 20 keys of at most 255 characters', () => {
    const keys = Array.from({ length: 25 }, (_, i) => `k${i}`);
    expect(parseColumns(keys)).toHaveLength(20);
    expect(parseColumns(['x'.repeat(256), 'y'])).toEqual(['y']);
  });
});

describe('sortRuns', () => {
  const a = summary({
    id: 'a',
    created_at: '2026-01-01T10:00:00Z',
    metrics: { loss: 0.5 }
  });
  const b = summary({
    id: 'b',
    created_at: '2026-01-01T11:00:00Z',
    metrics: { loss: 0.1 }
  });
  const c = summary({
    id: 'c',
    created_at: '2026-01-01T12:00:00Z',
    metrics: { loss: null }
  });
  const d = summary({ id: 'd', created_at: '2026-01-01T13:00:00Z' });
  const ids = (runs: { id: string }[]) => runs.map(r => r.id);

  it('orders by creation, newest first, or oldest first', () => {
    expect(ids(sortRuns([a, c, b], DEFAULT_SORT))).toEqual(['c', 'b', 'a']);
    expect(ids(sortRuns([a, c, b], { key: '', order: 'asc' }))).toEqual([
      'a',
      'b',
      'c'
    ]);
  });

  it('orders by a metric, runs without a value last either way', () => {
    expect(ids(sortRuns([a, b, c, d], { key: 'loss', order: 'asc' }))).toEqual([
      'b',
      'a',
      'd',
      'c'
    ]);
    expect(ids(sortRuns([a, b, c, d], { key: 'loss', order: 'desc' }))).toEqual(
      ['a', 'b', 'd', 'c']
    );
  });

  it('breaks creation ties by id', () => {
    const x = summary({ id: 'x' });
    const y = summary({ id: 'y' });
    expect(compareNewestFirst(x, y)).toBeGreaterThan(0);
    expect(compareNewestFirst(x, x)).toBe(0);
  });

  it('cycles a column header: ascending, descending, off', () => {
    const asc = nextSort(DEFAULT_SORT, 'loss');
    expect(asc).toEqual({ key: 'loss', order: 'asc' });
    const desc = nextSort(asc, 'loss');
    expect(desc).toEqual({ key: 'loss', order: 'desc' });
    expect(nextSort(desc, 'loss')).toEqual(DEFAULT_SORT);
    expect(nextSort(desc, 'acc')).toEqual({ key: 'acc', order: 'asc' });
  });
});

describe('filters', () => {
  const run = summary({
    id: 'abc123',
    notebook: 'nb/train.ipynb',
    status: 'failed',
    tags: ['Sweep']
  });

  it('match like the server’s query', () => {
    expect(matchesFilters(run, EMPTY_FILTERS)).toBe(true);
    expect(matchesFilters(run, { ...EMPTY_FILTERS, status: ['failed'] })).toBe(
      true
    );
    expect(matchesFilters(run, { ...EMPTY_FILTERS, status: ['running'] })).toBe(
      false
    );
    expect(
      matchesFilters(run, { ...EMPTY_FILTERS, notebook: '/nb/train.ipynb' })
    ).toBe(true);
    expect(matchesFilters(run, { ...EMPTY_FILTERS, tag: 'sweep' })).toBe(false);
    expect(matchesFilters(run, { ...EMPTY_FILTERS, q: 'SWEEP' })).toBe(true);
    expect(matchesFilters(run, { ...EMPTY_FILTERS, q: 'abc' })).toBe(true);
    expect(matchesFilters(run, { ...EMPTY_FILTERS, q: 'zzz' })).toBe(false);
  });

  it('tell whether any is set', () => {
    expect(hasFilters(EMPTY_FILTERS)).toBe(false);
    expect(hasFilters({ ...EMPTY_FILTERS, q: 'x' })).toBe(true);
  });

  it('map the status choices to statuses and back', () => {
    expect(statusesOf('')).toEqual([]);
    expect(statusesOf(ACTIVE_FILTER)).toEqual([
      'queued',
      'starting',
      'running'
    ]);
    expect(statusFilterValue(statusesOf(ACTIVE_FILTER))).toBe(ACTIVE_FILTER);
    expect(statusFilterValue(statusesOf(FAILED_FILTER))).toBe(FAILED_FILTER);
    expect(statusFilterValue(['cancelled'])).toBe('cancelled');
  });
});

describe('statuses', () => {
  it('tell active ones and the newer of two summaries', () => {
    expect(isActive('running')).toBe(true);
    expect(isActive('lost')).toBe(false);
    const running = summary({ status: 'running', cells_done: 2 });
    expect(isNewer(summary({ status: 'succeeded' }), running)).toBe(true);
    expect(
      isNewer(running, summary({ status: 'running', cells_done: 1 }))
    ).toBe(true);
    expect(isNewer(summary({ status: 'queued' }), running)).toBe(false);
  });
});
