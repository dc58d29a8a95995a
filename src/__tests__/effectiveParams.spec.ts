import { compareRestoreName, compareRows, isOverridden } from '../compareRows';
import { detail } from './runs';
import { trans } from './trans';

describe('compare with effective parameters', () => {
  const given = detail({
    id: 'a',
    parameters: { lr: 0.5, epochs: 3 },
    overridden: ['lr']
  });
  const defaults = detail({
    id: 'b',
    parameters: { lr: 0.01, epochs: 3 },
    overridden: []
  });
  const old = detail({ id: 'c', parameters: { lr: 0.5 } }); // before 0005
  const rows = compareRows([given, defaults, old], trans);
  const row = (key: string) => rows.find(r => r.key === key)!;

  it('shows the real value of a default, marked as a default', () => {
    expect(row('param:lr').values).toEqual(['0.5', '0.01', '0.5']);
    expect(row('param:lr').defaults).toEqual([false, true, false]);
    expect(row('param:lr').differs).toBe(true);
  });

  it('says "default" only where the run did not record the value', () => {
    expect(row('param:epochs').values).toEqual(['3', '3', 'default']);
    expect(row('param:epochs').defaults).toEqual([true, true, true]);
  });

  it('equal values do not differ, whether given or default', () => {
    const same = compareRows(
      [
        detail({ id: 'x', parameters: { lr: 1 }, overridden: ['lr'] }),
        detail({ id: 'y', parameters: { lr: 1 }, overridden: [] })
      ],
      trans
    ).find(r => r.key === 'param:lr')!;
    expect(same.differs).toBe(false);
  });

  it('reads the overridden list, older runs count as given', () => {
    expect(isOverridden(given, 'lr')).toBe(true);
    expect(isOverridden(given, 'epochs')).toBe(false);
    expect(isOverridden(old, 'lr')).toBe(true);
  });

  it('names a restored Compare by its runs', () => {
    expect(compareRestoreName(['a', 'b'])).toBe('a,b');
  });
});
