/**
 * How the run detail names the failing cell: as JupyterLab numbers it,
 * `In [3]` (its execution count), else by its 1-based position.
 */
import type { TranslationBundle } from '@jupyterlab/translation';

import type { IRunError } from './api';

export function cellLabel(
  error: Pick<IRunError, 'cell_index' | 'execution_count'>,
  trans: TranslationBundle
): string {
  if (error.execution_count !== null && error.execution_count !== undefined) {
    return trans.__('In [%1]: ', error.execution_count);
  }
  if (error.cell_index !== null && error.cell_index !== undefined) {
    return trans.__('Cell %1: ', error.cell_index + 1);
  }
  return '';
}
