/**
 * The inputs of the compared runs, against the first one: the same content
 * (hash) or changed, and for changed tables the drift per column (PSI, KS),
 * columns above the thresholds highlighted.
 */
import { TranslationBundle } from '@jupyterlab/translation';
import * as React from 'react';

import type { IInputsComparison, IRunDetail, MLOpsClient } from './api';
import { useAgainstFirst } from './againstFirst';
import { ErrorBanner, TableHead } from './components';
import { shortId, shortSha } from './format';

type IInputRow = IInputsComparison['inputs'][number];

/** A figure with 3 decimals, or a dash. */
export function figure(value: number | null | undefined): string {
  return value === null || value === undefined ? '—' : value.toFixed(3);
}

function side(value: IInputRow['first']): string {
  return value ? shortSha(value.sha256) : '—';
}

function InputRows(props: {
  comparison: IInputsComparison;
  trans: TranslationBundle;
}): JSX.Element {
  const { comparison, trans } = props;
  if (!comparison.inputs.length) {
    return (
      <p className="jp-mlops-hint">
        {trans.__('Neither run recorded inputs.')}
      </p>
    );
  }
  return (
    <table className="jp-mlops-table jp-mlops-input-drift">
      <TableHead
        labels={[
          trans.__('Input'),
          shortId(comparison.first),
          shortId(comparison.second),
          trans.__('Status')
        ]}
      />
      {comparison.inputs.map(row => (
        <tbody key={row.name} data-input={row.name} data-status={row.status}>
          <tr className={row.status === 'same' ? undefined : 'jp-mlops-diff'}>
            <th scope="row" title={row.first?.uri ?? row.second?.uri}>
              {row.name}
            </th>
            <td>
              <code>{side(row.first)}</code>
            </td>
            <td>
              <code>{side(row.second)}</code>
            </td>
            <td>{row.status === 'same' ? trans.__('same') : row.status}</td>
          </tr>
          {(row.drift ?? []).map(d => (
            <tr
              key={d.column}
              data-column={d.column}
              data-flagged={String(d.flagged)}
              className={`jp-mlops-drift-row${d.flagged ? ' jp-mlops-drift-flagged' : ''}`}
            >
              <td>
                {d.column} <small>({d.type})</small>
              </td>
              <td colSpan={2}>
                {trans.__('PSI %1, KS %2', figure(d.psi), figure(d.ks))}
              </td>
              <td>{d.note || (d.flagged ? trans.__('drift') : '')}</td>
            </tr>
          ))}
        </tbody>
      ))}
    </table>
  );
}

/** Each other run's inputs against the first run's. */
export function InputDrifts(props: {
  runs: IRunDetail[];
  client: MLOpsClient;
  trans: TranslationBundle;
}): JSX.Element | null {
  const { runs, client, trans } = props;
  const results = useAgainstFirst(runs, (base, other) =>
    client.compareRunInputs(base, other)
  );
  if (runs.length < 2) {
    return null;
  }
  const thresholds = results.find(r => r.data)?.data;
  return (
    <section
      className="jp-mlops-compare-inputs"
      aria-label={trans.__('Inputs')}
    >
      <h3>{trans.__('Inputs (against %1)', shortId(runs[0].id))}</h3>
      {thresholds && (
        <p className="jp-mlops-hint">
          {trans.__(
            'Highlighted: PSI above %1 or KS above %2.',
            thresholds.psi_threshold,
            thresholds.ks_threshold
          )}
        </p>
      )}
      {results.map(({ other, data, error }) => (
        <div key={other} data-run-id={other}>
          <ErrorBanner error={error} />
          {data && <InputRows comparison={data} trans={trans} />}
        </div>
      ))}
    </section>
  );
}
