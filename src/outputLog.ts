/**
 * A run's live output as the browser keeps it: chunks in `seq` order, never
 * one twice (a reconnect or a repeated event asks again from the last `seq`),
 * bounded by {@link MAX_SHOWN_CHARS} (the oldest chunks go first, counted),
 * and grouped by the cell that wrote them for the view.
 *
 * Free of runtime imports so that the unit tests load it without JupyterLab.
 */
import type { IOutputChunk } from './api';

/** Most characters of output the detail keeps (the server caps a run too). */
export const MAX_SHOWN_CHARS = 2_000_000;

export interface IOutputLog {
  readonly chunks: ReadonlyArray<IOutputChunk>;
  /** The last `seq` taken (the cursor of the next request). */
  readonly last: number;
  /** Characters in `chunks`. */
  readonly chars: number;
  /** Chunks dropped from the start to stay under the limit. */
  readonly dropped: number;
}

export const EMPTY_LOG: IOutputLog = {
  chunks: [],
  last: 0,
  chars: 0,
  dropped: 0
};

/** `log` with the chunks that are new (`seq` past `log.last`) appended. */
export function appendChunks(
  log: IOutputLog,
  chunks: ReadonlyArray<IOutputChunk>,
  maxChars: number = MAX_SHOWN_CHARS
): IOutputLog {
  const fresh = chunks
    .filter(chunk => chunk.seq > log.last)
    .sort((a, b) => a.seq - b.seq);
  if (!fresh.length) {
    return log;
  }
  const all = [...log.chunks, ...fresh];
  let chars = log.chars + fresh.reduce((n, c) => n + c.text.length, 0);
  let start = 0;
  while (chars > maxChars && start < all.length - 1) {
    chars -= all[start].text.length;
    start += 1;
  }
  return {
    chunks: start ? all.slice(start) : all,
    last: fresh[fresh.length - 1].seq,
    chars,
    dropped: log.dropped + start
  };
}

/** Neighbouring chunks of one cell, in order. */
export interface ICellOutput {
  cell: number | null;
  chunks: IOutputChunk[];
}

/** The chunks grouped into runs of the same cell (a cell shown once per run). */
export function groupByCell(
  chunks: ReadonlyArray<IOutputChunk>
): ICellOutput[] {
  const groups: ICellOutput[] = [];
  for (const chunk of chunks) {
    const last = groups[groups.length - 1];
    if (last && last.cell === chunk.cell_index) {
      last.chunks.push(chunk);
    } else {
      groups.push({ cell: chunk.cell_index, chunks: [chunk] });
    }
  }
  return groups;
}

/** A piece of a cell's output to draw: one stream's neighbouring chunks. */
export interface IOutputSpan {
  key: number;
  stream: IOutputChunk['stream'];
  text: string;
}

/**
 * Text as a terminal shows it after carriage returns: of each line, what the
 * last `\r` left (progress bars redraw their line this way).
 */
export function collapseCarriageReturns(text: string): string {
  if (!text.includes('\r')) {
    return text;
  }
  return text
    .replace(/\r\n/g, '\n')
    .split('\n')
    .map(line => line.slice(line.lastIndexOf('\r') + 1))
    .join('\n');
}

/** A cell's chunks as spans: neighbouring chunks of one stream joined. */
export function spansOf(chunks: ReadonlyArray<IOutputChunk>): IOutputSpan[] {
  const spans: IOutputSpan[] = [];
  for (const chunk of chunks) {
    const last = spans[spans.length - 1];
    if (last && last.stream === chunk.stream) {
      last.text += chunk.text;
    } else {
      spans.push({ key: chunk.seq, stream: chunk.stream, text: chunk.text });
    }
  }
  return spans.map(span => ({
    ...span,
    text: collapseCarriageReturns(span.text)
  }));
}
