/**
 * An executed notebook reduced to what the run page shows when its HTML rendering is
 * missing (see notebookFallback.tsx): sources, text outputs, errors without ANSI codes,
 * PNG/JPEG images as data URLs. Rich HTML and JavaScript outputs are left out: nothing
 * of the notebook is ever interpreted as markup.
 */
import type { JSONObject } from '@lumino/coreutils';

import { stripAnsi } from './format';

/** One output as shown: text, or an image as a data URL. */
export type IFallbackOutput =
  | { kind: 'text'; text: string; error?: boolean }
  | { kind: 'image'; src: string };

/** One cell as shown. */
export interface IFallbackCell {
  cellType: string;
  source: string;
  executionCount: number | null;
  outputs: IFallbackOutput[];
}

const IMAGE_TYPES = ['image/png', 'image/jpeg'];

function joined(value: unknown): string {
  if (Array.isArray(value)) {
    return value.map(String).join('');
  }
  return typeof value === 'string' ? value : '';
}

function outputOf(output: Record<string, unknown>): IFallbackOutput | null {
  switch (output.output_type) {
    case 'stream':
      return { kind: 'text', text: joined(output.text) };
    case 'error':
      return {
        kind: 'text',
        error: true,
        text: stripAnsi(
          joined(output.traceback as unknown[]) ||
            `${joined(output.ename)}: ${joined(output.evalue)}`
        )
      };
    case 'execute_result':
    case 'display_data': {
      const data = (output.data ?? {}) as Record<string, unknown>;
      const image = IMAGE_TYPES.find(type => typeof data[type] === 'string');
      if (image) {
        const base64 = (data[image] as string).replace(/\s/g, '');
        return { kind: 'image', src: `data:${image};base64,${base64}` };
      }
      const text = joined(data['text/plain']);
      return text ? { kind: 'text', text } : null;
    }
    default:
      return null;
  }
}

/** The cells of an nbformat v4 notebook, reduced to what the fallback shows. */
export function fallbackCells(notebook: JSONObject): IFallbackCell[] {
  const cells = Array.isArray(notebook.cells) ? notebook.cells : [];
  return cells.map(raw => {
    const cell = (raw ?? {}) as Record<string, unknown>;
    const outputs = Array.isArray(cell.outputs) ? cell.outputs : [];
    return {
      cellType: String(cell.cell_type ?? 'code'),
      source: joined(cell.source),
      executionCount:
        typeof cell.execution_count === 'number' ? cell.execution_count : null,
      outputs: outputs
        .map(o => outputOf((o ?? {}) as Record<string, unknown>))
        .filter((o): o is IFallbackOutput => o !== null)
    };
  });
}
