/**
 * Which uncommitted files of a run's snapshot the detail lists (no
 * JupyterLab imports: unit-tested on its own).
 */

/** How many uncommitted files the detail lists before "and N more". */
export const DIRTY_FILES_SHOWN = 20;

/** The uncommitted files to show and how many more there are. */
export function dirtyFilesShown(
  files: ReadonlyArray<string> | null | undefined,
  count: number | null | undefined,
  limit = DIRTY_FILES_SHOWN
): { shown: string[]; more: number } {
  const list = [...(files ?? [])];
  const total = Math.max(count ?? list.length, list.length);
  const shown = list.slice(0, limit);
  return { shown, more: total - shown.length };
}
