/**
 * What a schedule or trigger fires: a notebook run, or a pipeline run (its
 * target is a pipeline.yaml). The ids it records (last run, slots, events)
 * then name pipeline runs, which open the pipeline's DAG, not a run detail.
 */

export type TargetKind = 'notebook' | 'pipeline';

/** Pipeline run ids start with this (the server's `pl-` prefix). */
export const PIPELINE_ID_PREFIX = 'pl-';

export function isPipelineRunId(id: string): boolean {
  return id.startsWith(PIPELINE_ID_PREFIX);
}

/** The target of a schedule or trigger (older servers send none: notebook). */
export function targetKind(item: { target?: string | null }): TargetKind {
  return item.target === 'pipeline' ? 'pipeline' : 'notebook';
}

/** Open what a schedule or trigger fired: a pipeline run's view or a run. */
export function openFired(
  id: string,
  open: { run: (id: string) => void; pipeline: (id: string) => void }
): void {
  if (isPipelineRunId(id)) {
    open.pipeline(id);
  } else {
    open.run(id);
  }
}
