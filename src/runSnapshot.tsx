/**
 * The run detail's snapshot facts: the commit (a link to its history when
 * jupyterlab-git is installed, else copied), the branch, and which files
 * were uncommitted when the run was snapshotted.
 */
import type { TranslationBundle } from '@jupyterlab/translation';
import * as React from 'react';

import type { IRunDetail } from './api';
import { Section } from './components';
import { shortSha } from './format';
import { dirtyFilesShown } from './dirtyFiles';
import { KeyValues } from './runFacts';

export function SnapshotSection(props: {
  run: IRunDetail;
  trans: TranslationBundle;
  onOpenCommit: (sha: string) => void;
}): JSX.Element {
  const { run, trans } = props;
  const snapshot = run.snapshot;
  const commitLink = (sha: string, key: string) => (
    <button
      key={key}
      type="button"
      className="jp-mlops-linkbutton jp-mlops-commit"
      data-sha={sha}
      title={trans.__('Show commit %1', sha)}
      onClick={() => props.onOpenCommit(sha)}
    >
      <code>{shortSha(sha)}</code>
    </button>
  );
  const { shown, more } = dirtyFilesShown(
    snapshot?.dirty_files,
    snapshot?.dirty_count
  );
  const uncommitted = !snapshot?.dirty ? (
    trans.__('no')
  ) : shown.length ? (
    <ul key="dirty" className="jp-mlops-dirty-files">
      {shown.map(name => (
        <li key={name}>
          <code>{name}</code>
        </li>
      ))}
      {more > 0 && <li>{trans.__('… and %1 more', more)}</li>}
    </ul>
  ) : (
    trans.__('yes')
  );
  return (
    <Section title={trans.__('Snapshot')}>
      <KeyValues
        rows={[
          [trans.__('Commit'), commitLink(snapshot?.commit ?? run.commit, 'c')],
          [trans.__('Ref'), <code key="r">{snapshot?.ref ?? ''}</code>],
          [trans.__('Branch'), snapshot?.branch ?? '—'],
          [
            trans.__('Based on'),
            snapshot?.base_commit ? commitLink(snapshot.base_commit, 'b') : '—'
          ],
          [trans.__('Uncommitted changes'), uncommitted],
          [
            trans.__('Repository'),
            snapshot?.private_repo
              ? trans.__('private (notebook outside any git repository)')
              : (snapshot?.worktree ?? '')
          ]
        ]}
      />
    </Section>
  );
}
