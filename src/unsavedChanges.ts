/**
 * Whether a notebook open in JupyterLab differs from its file in what a job
 * runs: the cells' types, sources and tags. A kernel that starts rewrites the
 * notebook's `kernelspec`/`language_info` and running cells changes outputs
 * and counts: the model is "dirty", yet the job would run the same notebook,
 * so "Save before running?" is not asked for those.
 */
import type { PartialJSONObject } from '@lumino/coreutils';

function text(source: unknown): string {
  return Array.isArray(source) ? source.join('') : String(source ?? '');
}

function tags(cell: PartialJSONObject): string[] {
  const metadata = (cell.metadata ?? {}) as PartialJSONObject;
  const value = metadata.tags;
  return Array.isArray(value) ? value.map(String) : [];
}

/** What of a notebook a job runs: one string per cell. */
export function runnableCells(nb: PartialJSONObject | null): string[] {
  const cells = Array.isArray(nb?.cells)
    ? (nb!.cells as PartialJSONObject[])
    : [];
  return cells.map(cell =>
    JSON.stringify([cell.cell_type, text(cell.source), tags(cell)])
  );
}

/** Whether `current` (the open model) and `saved` (the file) run differently. */
export function differsFromDisk(
  current: PartialJSONObject | null,
  saved: PartialJSONObject | null
): boolean {
  const a = runnableCells(current);
  const b = runnableCells(saved);
  return a.length !== b.length || a.some((cell, i) => cell !== b[i]);
}
