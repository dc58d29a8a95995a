import { isPipelineActive, layoutDag } from '../pipelines/dag';

describe('layoutDag', () => {
  it('puts each step in the column of its depth, rows in file order', () => {
    const layout = layoutDag([
      { name: 'prepare', needs: [] },
      { name: 'features', needs: ['prepare'] },
      { name: 'stats', needs: ['prepare'] },
      { name: 'train', needs: ['features', 'stats'] },
      { name: 'lint', needs: [] }
    ]);
    expect(layout.nodes).toEqual([
      { name: 'prepare', column: 0, row: 0 },
      { name: 'features', column: 1, row: 0 },
      { name: 'stats', column: 1, row: 1 },
      { name: 'train', column: 2, row: 0 },
      { name: 'lint', column: 0, row: 1 }
    ]);
    expect(layout.edges).toContainEqual({ from: 'stats', to: 'train' });
    expect(layout.edges).toHaveLength(4);
    expect([layout.columns, layout.rows]).toEqual([3, 2]);
  });

  it('ignores unknown steps and survives a cycle', () => {
    const layout = layoutDag([
      { name: 'a', needs: ['b', 'ghost'] },
      { name: 'b', needs: ['a'] }
    ]);
    expect(layout.nodes.map(n => n.name)).toEqual(['a', 'b']);
    expect(layout.edges).toHaveLength(2);
  });

  it('polls running pipelines only', () => {
    expect(isPipelineActive('running')).toBe(true);
    expect(isPipelineActive('succeeded')).toBe(false);
  });
});
