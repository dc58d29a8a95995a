import { compareRows, unionOfKeys } from '../compareRows';
import { detail } from './runs';
import { trans } from './trans';

describe('compareRows', () => {
  const a = detail({
    id: 'a',
    seed: 1,
    parameters: { lr: 0.5 },
    metrics: { loss: 0.25 }
  });
  const b = detail({
    id: 'b',
    seed: 1,
    parameters: { lr: 0.01, epochs: 4 },
    metrics: { loss: 0.125, acc: 0.9 }
  });
  const rows = compareRows([a, b], trans);
  const row = (key: string) => rows.find(r => r.key === key)!;

  it('lists run facts, then parameters, then metrics (sorted)', () => {
    expect(rows.map(r => r.key)).toEqual([
      'notebook',
      'kernel',
      'commit',
      'seed',
      'gpus',
      'tags',
      'duration',
      'param:lr',
      'param:epochs',
      'metric:acc',
      'metric:loss'
    ]);
  });

  it('marks the rows whose values differ', () => {
    expect(row('seed').differs).toBe(false);
    expect(row('param:lr').differs).toBe(true);
    expect(row('param:lr').values).toEqual(['0.5', '0.01']);
    expect(row('duration').differs).toBe(false);
  });

  it('shows a parameter left at its default as "default"', () => {
    expect(row('param:epochs').values).toEqual(['default', '4']);
    expect(row('param:epochs').defaults).toEqual([true, false]);
    expect(row('param:epochs').differs).toBe(true);
  });

  it('shows a metric a run did not log as a dash', () => {
    expect(row('metric:acc').values).toEqual(['—', '0.9']);
    expect(row('metric:loss').values).toEqual(['0.25', '0.125']);
  });

  it('two defaults do not differ', () => {
    const c = detail({ id: 'c' });
    const d = detail({ id: 'd' });
    const onlyA = detail({ id: 'e', parameters: { lr: 1 } });
    const same = compareRows([c, d, onlyA], trans).find(
      r => r.key === 'param:lr'
    )!;
    expect(same.defaults).toEqual([true, true, false]);
    expect(same.differs).toBe(true);
  });
});

describe('unionOfKeys', () => {
  it('keeps each key once, in first-seen order', () => {
    expect(
      unionOfKeys([
        { b: 1, a: 1 },
        { a: 2, c: 3 }
      ])
    ).toEqual(['b', 'a', 'c']);
  });
});
