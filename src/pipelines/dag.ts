/**
 * The layout of a pipeline run's DAG: each step in the column of its depth
 * (the longest chain of `needs` above it), rows in file order within a
 * column, and one edge per dependency. Pure logic, tested in jest.
 */

export interface IDagStep {
  name: string;
  needs: string[];
}

export interface IDagNode {
  name: string;
  column: number;
  row: number;
}

export interface IDagEdge {
  from: string;
  to: string;
}

export interface IDagLayout {
  nodes: IDagNode[];
  edges: IDagEdge[];
  columns: number;
  rows: number;
}

/** Columns by depth; a dependency on an unknown step is ignored. */
export function layoutDag(steps: IDagStep[]): IDagLayout {
  const known = new Set(steps.map(s => s.name));
  const byName = new Map(steps.map(s => [s.name, s]));
  const depth = new Map<string, number>();
  const visiting = new Set<string>();
  const depthOf = (name: string): number => {
    const cached = depth.get(name);
    if (cached !== undefined) {
      return cached;
    }
    if (visiting.has(name)) {
      return 0; // a cycle (the server refuses them): do not loop
    }
    visiting.add(name);
    const ups = (byName.get(name)?.needs ?? []).filter(n => known.has(n));
    const d = ups.length ? Math.max(...ups.map(depthOf)) + 1 : 0;
    visiting.delete(name);
    depth.set(name, d);
    return d;
  };
  const rowsUsed: number[] = [];
  const nodes = steps.map(step => {
    const column = depthOf(step.name);
    const row = rowsUsed[column] ?? 0;
    rowsUsed[column] = row + 1;
    return { name: step.name, column, row };
  });
  const edges: IDagEdge[] = [];
  for (const step of steps) {
    for (const up of step.needs) {
      if (known.has(up)) {
        edges.push({ from: up, to: step.name });
      }
    }
  }
  return {
    nodes,
    edges,
    columns: rowsUsed.length,
    rows: Math.max(0, ...rowsUsed)
  };
}

/** Whether a pipeline run can still change (poll it while so). */
export function isPipelineActive(status: string): boolean {
  return status === 'running';
}
