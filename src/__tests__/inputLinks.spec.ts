import type { IRunInput, IRunLineage } from '../api';
import { inputLinks, inputRows, inputSampled } from '../inputLinks';

const SHA_A = 'a'.repeat(64);
const SHA_B = 'b'.repeat(64);

function input(fields: Partial<IRunInput> = {}): IRunInput {
  return {
    name: 'train_path',
    kind: 'dataset',
    source: 'parameter',
    uri: '/data/train.csv',
    sha256: SHA_A,
    size: 1024,
    file_count: 1,
    mtime: null,
    etag: null,
    version_id: null,
    stats: { format: 'csv', rows: 1000, sampled: false },
    recorded_at: '2026-01-01T10:00:00Z',
    ...fields
  };
}

function lineage(runId: string): IRunLineage {
  const version = (sha: string, runIds: string[], at: string) => ({
    sha256: sha,
    size: 1024,
    rows: 1000,
    first_used: at,
    last_used: at,
    run_ids: runIds
  });
  return {
    run: {
      id: runId,
      status: 'succeeded',
      notebook: 'train.ipynb',
      commit: 'c'.repeat(40),
      branch: 'main',
      base_commit: null,
      dirty: false,
      reproduced_from: null,
      created_at: '2026-01-01T10:00:00Z'
    },
    inputs: [
      {
        ...input(),
        stats: null,
        used_by: ['r2', 'r3'],
        versions: [
          version(SHA_B, ['r4', 'r1'], '2026-01-03T10:00:00Z'),
          version(SHA_A, ['r1', 'r2', 'r3'], '2026-01-02T10:00:00Z')
        ],
        produced_by: [
          { run_id: 'r0', artifact: 'train.csv', kind: 'file' },
          { run_id: 'r0', artifact: 'copy.csv', kind: 'file' }
        ]
      }
    ],
    outputs: []
  };
}

describe('inputLinks', () => {
  it('links the runs of the same data, other versions and producers', () => {
    const links = inputLinks(input(), lineage('r1'), 'r1');
    expect(links.sameData).toEqual(['r2', 'r3']);
    expect(links.otherVersions).toEqual([
      { sha256: SHA_B, runIds: ['r4'], lastUsed: '2026-01-03T10:00:00Z' }
    ]);
    expect(links.producedBy).toEqual(['r0']);
  });

  it('has no links before the lineage of this run is loaded', () => {
    expect(inputLinks(input(), null, 'r1').sameData).toEqual([]);
    expect(inputLinks(input(), lineage('other'), 'r1').otherVersions).toEqual(
      []
    );
    expect(
      inputLinks(input({ name: 'unknown' }), lineage('r1'), 'r1').sameData
    ).toEqual([]);
  });
});

describe('inputRows', () => {
  it('reads the row count and sampling of a table summary', () => {
    expect(inputRows(input())).toBe(1000);
    expect(inputSampled(input())).toBe(false);
    expect(inputRows(input({ stats: null }))).toBeNull();
    expect(
      inputSampled(
        input({ stats: { rows: 10, sampled: true, sample_rows: 5 } })
      )
    ).toBe(true);
  });
});
