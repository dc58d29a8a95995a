/**
 * The translation bundle the tests pass: English as written, `%1`, `%2`...
 * filled in, the plural form picked by count (like JupyterLab's null
 * translator, whose package the tests need not load).
 */
import type { TranslationBundle } from '@jupyterlab/translation';

function fill(text: string, args: unknown[]): string {
  return text.replace(/%(\d+)/g, (match, n: string) =>
    Number(n) <= args.length ? String(args[Number(n) - 1]) : match
  );
}

export const trans = {
  __: (text: string, ...args: unknown[]) => fill(text, args),
  _n: (singular: string, plural: string, n: number, ...args: unknown[]) =>
    fill(n === 1 ? singular : plural, [n, ...args])
} as unknown as TranslationBundle;
