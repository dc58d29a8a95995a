import type { IOutputChunk } from '../api';
import {
  appendChunks,
  collapseCarriageReturns,
  EMPTY_LOG,
  groupByCell,
  spansOf
} from '../outputLog';

function chunk(
  seq: number,
  text: string,
  cell: number | null = 1,
  stream: IOutputChunk['stream'] = 'stdout'
): IOutputChunk {
  return { seq, cell_index: cell, stream, text, at: '2026-01-01T10:00:00Z' };
}

describe('appendChunks', () => {
  it('appends new chunks in seq order and never one twice', () => {
    let log = appendChunks(EMPTY_LOG, [chunk(2, 'b'), chunk(1, 'a')]);
    log = appendChunks(log, [chunk(2, 'b'), chunk(3, 'c')]); // a repeated page
    expect(log.chunks.map(c => c.text)).toEqual(['a', 'b', 'c']);
    expect(log.last).toBe(3);
    expect(appendChunks(log, [chunk(1, 'a')])).toBe(log);
  });

  it('drops the oldest chunks past the limit, counting them', () => {
    let log = appendChunks(EMPTY_LOG, [chunk(1, 'aaaa'), chunk(2, 'bbbb')], 10);
    log = appendChunks(log, [chunk(3, 'cccc')], 10);
    expect(log.chunks.map(c => c.seq)).toEqual([2, 3]);
    expect(log.chars).toBe(8);
    expect(log.dropped).toBe(1);
    const huge = appendChunks(EMPTY_LOG, [chunk(1, 'x'.repeat(50))], 10);
    expect(huge.chunks).toHaveLength(1); // the newest is always kept
  });
});

describe('groupByCell', () => {
  it('groups neighbouring chunks of one cell', () => {
    const groups = groupByCell([
      chunk(1, 'a', 1),
      chunk(2, 'b', 1, 'stderr'),
      chunk(3, 'c', 2),
      chunk(4, 'd', null, 'notice')
    ]);
    expect(
      groups.map(g => [g.cell, g.chunks.map(c => c.text).join('')])
    ).toEqual([
      [1, 'ab'],
      [2, 'c'],
      [null, 'd']
    ]);
  });
});

describe('spansOf', () => {
  it('joins one stream and redraws progress bars as a terminal does', () => {
    const spans = spansOf([
      chunk(1, 'epoch 1\r 10%'),
      chunk(2, '\r 50%'),
      chunk(3, '\r100%\n'),
      chunk(4, 'warn\r\n', 1, 'stderr'),
      chunk(5, 'done\n')
    ]);
    expect(spans.map(s => [s.key, s.stream, s.text])).toEqual([
      [1, 'stdout', '100%\n'],
      [4, 'stderr', 'warn\n'],
      [5, 'stdout', 'done\n']
    ]);
    expect(collapseCarriageReturns('a\nb')).toBe('a\nb');
  });
});
