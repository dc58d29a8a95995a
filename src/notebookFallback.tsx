/**
 * The executed notebook shown without its HTML rendering: when the runner could not
 * write `output.html` (a full disk, a notebook nbconvert cannot render) the run's page
 * still shows what ran, from the executed notebook itself, as plain text (sources,
 * text outputs, errors) and PNG/JPEG images. Nothing of the notebook is interpreted as
 * HTML, so this needs no sandbox.
 */
import { TranslationBundle } from '@jupyterlab/translation';
import * as React from 'react';

import type { MLOpsClient } from './api';
import { fallbackCells, IFallbackCell } from './notebookCells';
import { errorMessage } from './request';

/** The executed notebook of a run, fetched once and shown as text. */
export function ExecutedNotebookFallback(props: {
  runId: string;
  client: MLOpsClient;
  trans: TranslationBundle;
}): JSX.Element {
  const { runId, client, trans } = props;
  const [cells, setCells] = React.useState<IFallbackCell[] | null>(null);
  const [error, setError] = React.useState<string | null>(null);
  React.useEffect(() => {
    let current = true;
    client.executedNotebook(runId).then(
      notebook => current && setCells(fallbackCells(notebook)),
      reason => current && setError(errorMessage(reason))
    );
    return () => {
      current = false;
    };
  }, [runId, client]);
  return (
    <div className="jp-mlops-output-fallback">
      <p className="jp-mlops-hint">
        {trans.__(
          'The HTML rendering of this run is missing; the executed notebook is shown as text.'
        )}
      </p>
      {error && <p className="jp-mlops-error-summary">{error}</p>}
      {cells === null && !error && (
        <p className="jp-mlops-hint" role="status">
          {trans.__('Loading…')}
        </p>
      )}
      {cells?.map((cell, index) => (
        <div
          key={index}
          className="jp-mlops-output-fallback-cell"
          data-cell-type={cell.cellType}
        >
          <pre className="jp-mlops-output-fallback-source">
            {cell.cellType === 'code'
              ? `[${cell.executionCount ?? ' '}] ${cell.source}`
              : cell.source}
          </pre>
          {cell.outputs.map((output, i) =>
            output.kind === 'image' ? (
              <img key={i} src={output.src} alt="" />
            ) : (
              <pre
                key={i}
                className={
                  output.error
                    ? 'jp-mlops-output-fallback-text jp-mlops-traceback'
                    : 'jp-mlops-output-fallback-text'
                }
              >
                {output.text}
              </pre>
            )
          )}
        </div>
      ))}
    </div>
  );
}
