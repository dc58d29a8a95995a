import type { INotebookParameters } from '../api';
import { checkForm, initialRunForm, syncSeed } from '../runForm';
import { cellLabel } from '../runErrors';
import {
  parseRunNotebookPath,
  readOnlyNotebook,
  runNotebookPath
} from '../runNotebooks';
import { dirtyFilesShown } from '../dirtyFiles';
import { differsFromDisk } from '../unsavedChanges';
import { isDarkTheme, themedHtmlSrc } from '../executedNotebook';
import { LR_PARAM, param } from './parameters';
import { trans } from './trans';

const withSeed: INotebookParameters = {
  parameters: [
    LR_PARAM,
    param({ name: 'seed', default: 0, default_source: '0' })
  ],
  has_parameters_cell: true,
  problems: [],
  path: 'nb.ipynb',
  kernel: 'python3'
} as unknown as INotebookParameters;

describe('the Seed field and the seed parameter are one value', () => {
  it('starts from the seed parameter default and is sent', () => {
    const state = initialRunForm(withSeed, 'python3');
    expect(state.seed).toBe('0');
    const { request } = checkForm('nb.ipynb', withSeed, state, trans);
    expect(request?.seed).toBe(0);
    expect(request?.parameters).toEqual({});
  });

  it('copies the Seed field to the parameter and back', () => {
    const start = initialRunForm(withSeed, 'python3');
    const typed = syncSeed(start, { ...start, seed: '7' });
    expect(typed.fields.seed.text).toBe('7');
    const { request } = checkForm('nb.ipynb', withSeed, typed, trans);
    expect(request?.seed).toBe(7);
    expect(request?.parameters).toEqual({ seed: 7 });
    const back = syncSeed(typed, {
      ...typed,
      fields: { ...typed.fields, seed: { ...typed.fields.seed, text: '9' } }
    });
    expect(back.seed).toBe('9');
  });

  it('leaves a notebook without a seed parameter alone', () => {
    const info = { ...withSeed, parameters: [withSeed.parameters[0]] };
    const start = initialRunForm(info, 'python3');
    expect(start.seed).toBe('');
    const next = { ...start, seed: '3' };
    expect(syncSeed(start, next)).toBe(next);
  });
});

describe('Save before running? only when what runs differs', () => {
  const cell = (source: string, extra: object = {}) => ({
    cell_type: 'code',
    source,
    metadata: {},
    outputs: [],
    execution_count: null,
    ...extra
  });
  const saved = { cells: [cell('a = 1')], metadata: {} };

  it('ignores a started kernel and executed outputs', () => {
    const running = {
      cells: [
        cell('a = 1', {
          outputs: [{ output_type: 'stream' }],
          execution_count: 1
        })
      ],
      metadata: { language_info: { name: 'python' } }
    };
    expect(differsFromDisk(running, saved)).toBe(false);
  });

  it('sees edited sources, new cells and tags', () => {
    expect(differsFromDisk({ cells: [cell('a = 2')] }, saved)).toBe(true);
    expect(differsFromDisk({ cells: [cell('a = 1'), cell('b')] }, saved)).toBe(
      true
    );
    expect(
      differsFromDisk(
        { cells: [cell('a = 1', { metadata: { tags: ['parameters'] } })] },
        saved
      )
    ).toBe(true);
    expect(
      differsFromDisk({ cells: [cell(['a ', '= 1'] as never)] }, saved)
    ).toBe(false);
  });
});

describe('run notebooks', () => {
  it('names and parses the read-only paths', () => {
    const path = runNotebookPath('abc123', 'executed', 'dir/train.ipynb');
    expect(path).toBe('mlops-run:abc123/executed/train.ipynb');
    expect(parseRunNotebookPath('abc123/code/train.ipynb')).toEqual({
      runId: 'abc123',
      kind: 'code',
      name: 'train.ipynb'
    });
    expect(parseRunNotebookPath('abc123/other/x.ipynb')).toBeNull();
  });

  it('marks every cell read-only without changing the original', () => {
    const nb = {
      cells: [{ cell_type: 'code', source: 'x', metadata: { tags: ['t'] } }]
    };
    const ro = readOnlyNotebook(nb);
    expect((ro.cells as any)[0].metadata).toEqual({
      tags: ['t'],
      editable: false,
      deletable: false
    });
    expect(nb.cells[0].metadata).toEqual({ tags: ['t'] });
  });

  it('follows the theme in the HTML view', () => {
    const body = (light: string) =>
      ({ dataset: { jpThemeLight: light } }) as unknown as HTMLElement;
    expect(isDarkTheme(body('false'))).toBe(true);
    expect(isDarkTheme(body('true'))).toBe(false);
    expect(themedHtmlSrc('/h?theme=dark', 'a'.repeat(64), true)).toBe(
      `/h?theme=dark&v=${'a'.repeat(12)}-dark`
    );
  });
});

describe('run facts', () => {
  it('numbers the failing cell as JupyterLab does', () => {
    expect(cellLabel({ cell_index: 5, execution_count: 4 }, trans)).toBe(
      'In [4]: '
    );
    expect(cellLabel({ cell_index: 2, execution_count: null }, trans)).toBe(
      'Cell 3: '
    );
  });

  it('bounds the uncommitted files shown', () => {
    const files = Array.from({ length: 30 }, (_, i) => `f${i}`);
    const { shown, more } = dirtyFilesShown(files.slice(0, 25), 130, 20);
    expect(shown).toHaveLength(20);
    expect(more).toBe(110);
    expect(dirtyFilesShown(null, null)).toEqual({ shown: [], more: 0 });
  });
});
