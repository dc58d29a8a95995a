/**
 * A verified reproduction in the run detail: Reproduce and, beside it,
 * "Reproduce and verify";
 * the verdict with the first differing cells (their diff), metrics
 * and model weights, the check of every recorded input, and the run's
 * reproducibility summary (what a rebuild needs, pinned or not).
 */
import { TranslationBundle } from '@jupyterlab/translation';
import * as React from 'react';

import type {
  IReproduceOptions,
  IReproducibilityItem,
  IRunDetail,
  IRunVerification
} from './api';
import { Section, TableHead } from './components';
import { shortSha } from './format';

/** The options of the "Reproduce and verify" action. */
export const VERIFY_OPTIONS: IReproduceOptions = { verify: true };

/** The detail actions this file needs (a part of `IRunActions`). */
interface IVerifyActions {
  reproduce(id: string, options?: IReproduceOptions): Promise<void>;
}

/** The Reproduce button and, next to it, "Reproduce and verify". */
export function reproduceButtons(
  run: IRunDetail,
  busy: string | null,
  actions: IVerifyActions,
  trans: TranslationBundle
): Array<{
  className: string;
  label: string;
  title: string;
  disabled: boolean;
  onClick: () => void;
}> {
  return [
    {
      className: 'jp-mod-accept jp-mlops-reproduce',
      label: trans.__('Reproduce'),
      title: trans.__(
        'Run again with the same commit, parameters, seed and kernel'
      ),
      disabled: busy !== null,
      onClick: () => void actions.reproduce(run.id)
    },
    {
      className: 'jp-mlops-reproduce-verify',
      label: trans.__('Reproduce and verify'),
      title: trans.__(
        'Check the recorded inputs (data, commit, kernel, packages), run again and compare outputs, metrics and model weights with this run'
      ),
      disabled: busy !== null || !run.commit,
      onClick: () => void actions.reproduce(run.id, VERIFY_OPTIONS)
    }
  ];
}

/** The words of a verdict (null: not decided yet). */
export function verdictLabel(
  verdict: IRunVerification['verdict'],
  trans: TranslationBundle
): string {
  switch (verdict) {
    case 'identical':
      return trans.__('Identical');
    case 'equivalent':
      return trans.__('Equivalent');
    case 'differs':
      return trans.__('Differs');
    default:
      return trans.__('Pending (decided when the run ends)');
  }
}

function InputChecks(props: {
  verification: IRunVerification;
  trans: TranslationBundle;
}): JSX.Element {
  const { verification, trans } = props;
  return (
    <table className="jp-mlops-table jp-mlops-verify-inputs">
      <TableHead
        labels={[trans.__('Input'), trans.__('Name'), trans.__('Reason')]}
      />
      <tbody>
        {verification.inputs.map((check, index) => (
          <tr
            key={index}
            data-kind={check.kind}
            data-status={check.status}
            className={check.status === 'same' ? undefined : 'jp-mlops-diff'}
          >
            <td>{check.kind}</td>
            <td>
              <code>{check.name}</code>
            </td>
            <td>{check.reason}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function Differences(props: {
  verification: IRunVerification;
  trans: TranslationBundle;
}): JSX.Element | null {
  const { trans } = props;
  const result = props.verification.result;
  if (!result) {
    return null;
  }
  return (
    <>
      {result.cells.map(cell => (
        <div
          key={cell.cell_index}
          className="jp-mlops-verify-cell"
          data-cell-index={cell.cell_index}
          data-outcome={cell.outcome}
        >
          <h4>{trans.__('Cell %1: %2', cell.cell_index, cell.outcome)}</h4>
          <pre className="jp-mlops-verify-source">{cell.source}</pre>
          <pre className="jp-mlops-notebook-diff jp-mlops-verify-diff">
            {cell.diff}
          </pre>
        </div>
      ))}
      {result.metrics.length > 0 && (
        <table className="jp-mlops-table jp-mlops-verify-metrics">
          <TableHead
            labels={[
              trans.__('Metric'),
              trans.__('Step'),
              trans.__('Original'),
              trans.__('Reproduction'),
              trans.__('Outcome')
            ]}
          />
          <tbody>
            {result.metrics.map((m, index) => (
              <tr
                key={index}
                data-key={m.key}
                className={m.outcome === 'differs' ? 'jp-mlops-diff' : ''}
              >
                <td>{m.key}</td>
                <td>{m.step ?? '—'}</td>
                <td>{m.original ?? '—'}</td>
                <td>{m.reproduction ?? '—'}</td>
                <td title={m.why}>{m.outcome}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {result.models.map(model => (
        <p key={model.name} className="jp-mlops-verify-model">
          {trans.__(
            'Model %1: %2 → %3',
            model.name,
            model.original ? shortSha(model.original) : trans.__('none'),
            model.reproduction ? shortSha(model.reproduction) : trans.__('none')
          )}
        </p>
      ))}
    </>
  );
}

/** The verdict of a verified reproduction, with its diff and input checks. */
export function VerificationSection(props: {
  verification: IRunVerification;
  trans: TranslationBundle;
}): JSX.Element {
  const { verification, trans } = props;
  const verdict = verification.verdict ?? 'pending';
  return (
    <Section title={trans.__('Verification')} className="jp-mlops-verification">
      <p className="jp-mlops-verdict-line">
        <span
          className={`jp-mlops-verdict jp-mlops-verdict-${verdict}`}
          data-verdict={verdict}
        >
          {verdictLabel(verification.verdict, trans)}
        </span>{' '}
        {trans.__('against run %1', verification.original_id)}
        {verification.summary ? `: ${verification.summary}` : ''}
      </p>
      {verification.changed_inputs && (
        <p className="jp-mlops-verify-changed">
          {trans.__('Run although recorded inputs changed.')}
        </p>
      )}
      <Differences verification={verification} trans={trans} />
      <details className="jp-mlops-verify-inputs-details">
        <summary>{trans.__('Inputs checked before the run')}</summary>
        <InputChecks verification={verification} trans={trans} />
      </details>
    </Section>
  );
}

/** What a rebuild needs, and whether the run pinned each. */
export function ReproducibilitySection(props: {
  items: IReproducibilityItem[];
  trans: TranslationBundle;
}): JSX.Element | null {
  const { items, trans } = props;
  if (!items.length) {
    return null;
  }
  return (
    <Section
      title={trans.__('Reproducibility')}
      className="jp-mlops-reproducibility"
    >
      <ul className="jp-mlops-reproducibility-list">
        {items.map(item => (
          <li
            key={item.item}
            data-item={item.item}
            data-pinned={String(item.pinned)}
            className={item.pinned ? 'jp-mlops-pinned' : 'jp-mlops-unpinned'}
          >
            <span className="jp-mlops-pin-mark" aria-hidden="true">
              {item.pinned ? '✓' : '!'}
            </span>{' '}
            <strong>{item.item}</strong>
            {': '}
            {item.pinned ? '' : trans.__('not pinned: ')}
            {item.detail}
          </li>
        ))}
      </ul>
    </Section>
  );
}

/** Both, for the run detail: the verdict (on a verified reproduction) first. */
export function RunVerificationViews(props: {
  run: IRunDetail;
  trans: TranslationBundle;
}): JSX.Element {
  const { run, trans } = props;
  return (
    <>
      {run.verification && (
        <VerificationSection verification={run.verification} trans={trans} />
      )}
      <ReproducibilitySection items={run.reproducibility ?? []} trans={trans} />
    </>
  );
}
