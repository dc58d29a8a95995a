/**
 * Commit links through jupyterlab-git, when it is installed: its file
 * history command shows the notebook's commits in the Git panel (it has no
 * command that opens one commit by sha, so the detail copies the sha too).
 */
import type { ReadonlyPartialJSONObject } from '@lumino/coreutils';

import type { IRunDetail } from './api';

/** jupyterlab-git's "History" command of a file (its context menu entry). */
export const GIT_FILE_HISTORY = 'git:context-history';

/** The arguments jupyterlab-git's history command takes for the notebook. */
export function gitHistoryArgs(
  run: Pick<IRunDetail, 'snapshot' | 'notebook'>
): ReadonlyPartialJSONObject {
  const path = run.snapshot?.notebook ?? run.notebook;
  return {
    files: [
      {
        x: ' ',
        y: ' ',
        to: path,
        from: path,
        is_binary: false,
        status: 'unmodified'
      }
    ]
  };
}
