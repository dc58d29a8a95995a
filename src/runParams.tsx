/**
 * The run detail's parameters: every parameter the run ran with, the ones
 * given for it (typed, on the CLI, by a schedule) marked, the others the
 * notebook's defaults as inspected at submit.
 */
import type { TranslationBundle } from '@jupyterlab/translation';
import * as React from 'react';

import type { IRunDetail } from './api';
import { isOverridden } from './compareRows';
import { Section, TableHead } from './components';
import { formatValue } from './format';

export function ParametersSection(props: {
  run: IRunDetail;
  trans: TranslationBundle;
}): JSX.Element {
  const { run, trans } = props;
  const params = Object.entries(run.parameters);
  return (
    <Section title={trans.__('Parameters')}>
      {params.length ? (
        <table className="jp-mlops-table jp-mlops-params-table">
          <TableHead
            labels={[
              trans.__('Name'),
              trans.__('Value'),
              trans.__('Type'),
              trans.__('Source')
            ]}
          />
          <tbody>
            {params.map(([name, value]) => {
              const given = isOverridden(run, name);
              return (
                <tr
                  key={name}
                  data-param={name}
                  data-overridden={given ? 'true' : 'false'}
                  className={given ? 'jp-mlops-param-given' : undefined}
                >
                  <th scope="row">{name}</th>
                  <td>
                    <code>{formatValue(value)}</code>
                  </td>
                  <td>{run.parameter_types?.[name] ?? ''}</td>
                  <td>
                    {given ? (
                      <span className="jp-mlops-tag jp-mlops-param-badge">
                        {trans.__('given')}
                      </span>
                    ) : (
                      <span className="jp-mlops-default">
                        {trans.__('default')}
                      </span>
                    )}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      ) : (
        <p className="jp-mlops-hint">
          {trans.__('The notebook declares no parameters.')}
        </p>
      )}
    </Section>
  );
}
