/**
 * A tag on a schedule or trigger row saying that it fires a pipeline.
 */
import { TranslationBundle } from '@jupyterlab/translation';
import * as React from 'react';

import { targetKind } from './automationTarget';

export function TargetBadge(props: {
  item: { target?: string | null };
  trans: TranslationBundle;
}): JSX.Element | null {
  if (targetKind(props.item) !== 'pipeline') {
    return null;
  }
  return (
    <span
      className="jp-mlops-tag jp-mlops-target-pipeline"
      title={props.trans.__('Fires a pipeline run (every step of the file)')}
    >
      {props.trans.__('pipeline')}
    </span>
  );
}
