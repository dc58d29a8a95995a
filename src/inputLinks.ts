/**
 * What the run detail's Inputs section shows of one input: its row count (from
 * the table summary, when tabular) and its links, from the run's lineage: the
 * other runs that read the same content, and the other versions (contents) of
 * the same dataset with the runs that read each.
 */
import type { ILineageInput, IRunInput, IRunLineage } from './api';

export interface IOtherVersion {
  sha256: string;
  runIds: string[];
  lastUsed: string;
}

export interface IInputLinks {
  /** Other runs that read exactly this content. */
  sameData: string[];
  /** Other contents of the same URI, newest use first. */
  otherVersions: IOtherVersion[];
  /** Runs that produced this content as an artifact. */
  producedBy: string[];
}

const NO_LINKS: IInputLinks = {
  sameData: [],
  otherVersions: [],
  producedBy: []
};

/** Rows of a tabular input, or null (not tabular, or not summarized). */
export function inputRows(input: IRunInput): number | null {
  const rows = input.stats?.rows;
  return typeof rows === 'number' ? rows : null;
}

/** Whether the summary was computed from a sample (a large table). */
export function inputSampled(input: IRunInput): boolean {
  return input.stats?.sampled === true;
}

function linksOf(item: ILineageInput, runId: string): IInputLinks {
  return {
    sameData: item.used_by.filter(id => id !== runId),
    otherVersions: item.versions
      .filter(v => v.sha256 !== item.sha256)
      .map(v => ({
        sha256: v.sha256,
        runIds: v.run_ids.filter(id => id !== runId),
        lastUsed: v.last_used
      })),
    producedBy: [
      ...new Set(item.produced_by.map(p => p.run_id).filter(id => id !== runId))
    ]
  };
}

/**
 * The links of `input` (matched by name) in `lineage`; none while the lineage
 * is not loaded or belongs to another run.
 */
export function inputLinks(
  input: IRunInput,
  lineage: IRunLineage | null,
  runId: string
): IInputLinks {
  if (!lineage || lineage.run.id !== runId) {
    return NO_LINKS;
  }
  const item = lineage.inputs.find(i => i.name === input.name);
  return item ? linksOf(item, runId) : NO_LINKS;
}
