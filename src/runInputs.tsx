/**
 * The run detail's "Inputs" section: what the run read (datasets recorded by
 * `use_dataset` or `# mlops: dataset` parameters) with URI, short hash, size
 * and rows, and links to the runs that read the same data and to the other
 * versions of each dataset (from `GET runs/{id}/lineage`).
 */
import { TranslationBundle } from '@jupyterlab/translation';
import * as React from 'react';

import type { IRunDetail, IRunInput, IRunLineage, MLOpsClient } from './api';
import { Section, TableHead } from './components';
import { formatBytes, shortSha } from './format';
import { inputLinks, inputRows, inputSampled } from './inputLinks';

interface IRunInputsProps {
  detail: IRunDetail | null;
  client: MLOpsClient;
  trans: TranslationBundle;
  actions: { openRun(id: string): void };
}

function RunLinks(props: {
  ids: string[];
  openRun: (id: string) => void;
}): JSX.Element {
  return (
    <>
      {props.ids.map(id => (
        <button
          key={id}
          type="button"
          className="jp-mlops-linkbutton"
          data-run-link={id}
          onClick={() => props.openRun(id)}
        >
          {id}
        </button>
      ))}
    </>
  );
}

function InputRow(props: {
  input: IRunInput;
  lineage: IRunLineage | null;
  runId: string;
  trans: TranslationBundle;
  openRun: (id: string) => void;
}): JSX.Element {
  const { input, trans, openRun } = props;
  const rows = inputRows(input);
  const links = inputLinks(input, props.lineage, props.runId);
  return (
    <tr data-input={input.name}>
      <th scope="row" title={`${input.source} (${input.kind})`}>
        {input.name === input.uri ? '' : input.name}
      </th>
      <td className="jp-mlops-input-uri" title={input.uri}>
        <code>{input.uri}</code>
        {input.file_count > 1 && ` ${trans.__('(%1 files)', input.file_count)}`}
      </td>
      <td>
        <code title={input.sha256} data-sha256={input.sha256}>
          {shortSha(input.sha256)}
        </code>
      </td>
      <td>{formatBytes(input.size)}</td>
      <td>
        {rows === null
          ? '—'
          : rows.toLocaleString('en-US') +
            (inputSampled(input) ? ` ${trans.__('(sampled)')}` : '')}
      </td>
      <td className="jp-mlops-input-links">
        {links.producedBy.length > 0 && (
          <div>
            {trans.__('Produced by')}{' '}
            <RunLinks ids={links.producedBy} openRun={openRun} />
          </div>
        )}
        {links.sameData.length > 0 && (
          <div data-links="same-data">
            {trans.__('Same data')}{' '}
            <RunLinks ids={links.sameData} openRun={openRun} />
          </div>
        )}
        {links.otherVersions.map(v => (
          <div key={v.sha256} data-links="other-version">
            {trans.__('Version')}{' '}
            <code title={v.sha256}>{shortSha(v.sha256)}</code>{' '}
            <RunLinks ids={v.runIds} openRun={openRun} />
          </div>
        ))}
      </td>
    </tr>
  );
}

/** The Inputs section; nothing when the run recorded no input. */
export function RunInputs(props: IRunInputsProps): JSX.Element | null {
  const { detail, client, trans } = props;
  const inputs = detail?.inputs ?? [];
  const runId = detail?.id ?? '';
  const key = inputs.map(i => `${i.name}:${i.sha256}`).join('|');
  const [lineage, setLineage] = React.useState<IRunLineage | null>(null);
  React.useEffect(() => {
    if (!runId || !key) {
      return;
    }
    let current = true;
    client.runLineage(runId).then(
      found => current && setLineage(found),
      () => current && setLineage(null) // links are extras: the table stands alone
    );
    return () => {
      current = false;
    };
  }, [client, runId, key]);
  if (!inputs.length) {
    return null;
  }
  return (
    <Section title={trans.__('Inputs')} className="jp-mlops-inputs">
      <table className="jp-mlops-table jp-mlops-inputs-table">
        <TableHead
          labels={[
            trans.__('Name'),
            trans.__('URI'),
            trans.__('sha256'),
            trans.__('Size'),
            trans.__('Rows'),
            trans.__('Links')
          ]}
        />
        <tbody>
          {inputs.map(input => (
            <InputRow
              key={input.name}
              input={input as IRunInput}
              lineage={lineage}
              runId={runId}
              trans={trans}
              openRun={props.actions.openRun}
            />
          ))}
        </tbody>
      </table>
    </Section>
  );
}
