/**
 * Compare runs side by side: run facts, parameters and metrics, with the rows
 * whose values differ highlighted, metric plots overlaid across the runs, and
 * the code difference of their snapshots; their inputs and data drift come
 * from `inputDrift.tsx`.
 */
import { TranslationBundle } from '@jupyterlab/translation';
import { ReactWidget } from '@jupyterlab/ui-components';
import * as React from 'react';

import type { IRunDetail, MLOpsClient } from './api';
import { useAgainstFirst } from './againstFirst';
import { compareRows, ICompareRow } from './compareRows';
import { ErrorBanner, StatusBadge } from './components';
import { CheckboxField } from './formFields';
import { InputDrifts } from './inputDrift';
import { runLabel, shortId } from './format';
import { CompareMetrics } from './metrics';
import type { RunsModel } from './model';
import { errorMessage } from './request';
import { RunWatcher } from './runWatcher';

/**
 * The code difference of each other run against the first one (nbdime on the
 * notebooks' sources, git for the other project files).
 */
function CodeDiffs(props: {
  runs: IRunDetail[];
  client: MLOpsClient;
  trans: TranslationBundle;
}): JSX.Element | null {
  const { runs, client, trans } = props;
  const diffs = useAgainstFirst(runs, (base, other) =>
    client.diffRuns(base, other)
  );
  if (runs.length < 2) {
    return null;
  }
  return (
    <section className="jp-mlops-compare-code" aria-label={trans.__('Code')}>
      <h3>{trans.__('Code (against %1)', shortId(runs[0].id))}</h3>
      {diffs.map(({ other, data: diff, error }) => (
        <div key={other} className="jp-mlops-code-diff" data-run-id={other}>
          <h4>{shortId(other)}</h4>
          <ErrorBanner error={error} />
          {diff && diff.same_code === true && (
            <p className="jp-mlops-same-code">{trans.__('Same code.')}</p>
          )}
          {diff && diff.same_code !== true && (
            <>
              {diff.files.length > 0 && (
                <ul className="jp-mlops-diff-files">
                  {diff.files.map(f => (
                    <li key={f.path}>
                      <code>{f.status}</code> {f.path}
                    </li>
                  ))}
                </ul>
              )}
              {diff.notebook_diff ? (
                <pre className="jp-mlops-notebook-diff">
                  {diff.notebook_diff}
                </pre>
              ) : (
                <p>
                  {diff.notebook_diff === ''
                    ? trans.__('The notebook is the same.')
                    : (diff.error ?? trans.__('No notebook diff available.'))}
                </p>
              )}
            </>
          )}
        </div>
      ))}
    </section>
  );
}

/** What the Compare widget knows of its runs, drawn as it changes. */
interface ICompareState {
  runs: IRunDetail[];
  /** The runs that could not be loaded, one line each. */
  error: string | null;
  loading: boolean;
  /** Bumped at every reload (the metric overlays refresh with it). */
  version: number;
}

function CompareView(
  props: ICompareState &
    Pick<CompareWidget.IOptions, 'trans' | 'client' | 'onOpen'>
): JSX.Element {
  const { runs, trans } = props;
  const [onlyDiffs, setOnlyDiffs] = React.useState(false);
  if (!runs.length) {
    return (
      <div className="jp-mlops-compare">
        {props.error ? (
          <ErrorBanner error={props.error} />
        ) : (
          <p className="jp-mlops-hint" role="status">
            {props.loading
              ? trans.__('Loading…')
              : trans.__('No runs to compare.')}
          </p>
        )}
      </div>
    );
  }
  const rows = compareRows(runs, trans);
  const sections: Array<[ICompareRow['section'], string]> = [
    ['run', trans.__('Run')],
    ['parameters', trans.__('Parameters')],
    ['metrics', trans.__('Metrics')]
  ];
  const diffCount = rows.filter(
    r => r.differs && r.section === 'parameters'
  ).length;
  return (
    <div className="jp-mlops-compare">
      <div className="jp-mlops-compare-toolbar">
        <span>
          {trans._n('%1 parameter differs', '%1 parameters differ', diffCount)}
        </span>
        <CheckboxField
          label={trans.__('Only differences')}
          checked={onlyDiffs}
          onChange={setOnlyDiffs}
        />
      </div>
      <ErrorBanner error={props.error} />
      <table className="jp-mlops-table jp-mlops-compare-table">
        <thead>
          <tr>
            <th scope="col">{trans.__('Run')}</th>
            {runs.map(run => (
              <th scope="col" key={run.id} data-run-id={run.id}>
                <button
                  type="button"
                  className="jp-mlops-linkbutton"
                  title={trans.__('Open run %1', run.id)}
                  onClick={() => props.onOpen(run.id)}
                >
                  {runLabel(run)}
                </button>
                <StatusBadge status={run.status} trans={trans} />
              </th>
            ))}
          </tr>
        </thead>
        {sections.map(([section, title]) => {
          const sectionRows = rows.filter(
            r => r.section === section && (!onlyDiffs || r.differs)
          );
          if (!sectionRows.length) {
            return null;
          }
          return (
            <tbody key={section} data-section={section}>
              <tr className="jp-mlops-compare-section">
                <th scope="colgroup" colSpan={runs.length + 1}>
                  {title}
                </th>
              </tr>
              {sectionRows.map(row => (
                <tr
                  key={row.key}
                  data-row={row.key}
                  className={row.differs ? 'jp-mlops-diff' : undefined}
                  aria-label={
                    row.differs
                      ? trans.__('%1 (differs)', row.label)
                      : undefined
                  }
                >
                  <th scope="row">{row.label}</th>
                  {row.values.map((value, i) => (
                    <td
                      key={runs[i].id}
                      className={
                        row.defaults[i] ? 'jp-mlops-default' : undefined
                      }
                    >
                      {value}
                    </td>
                  ))}
                </tr>
              ))}
            </tbody>
          );
        })}
      </table>
      <CompareMetrics
        runs={runs}
        client={props.client}
        trans={trans}
        version={props.version}
      />
      <InputDrifts runs={runs} client={props.client} trans={trans} />
      <CodeDiffs runs={runs} client={props.client} trans={trans} />
    </div>
  );
}

/** Wait after a run event before reloading the runs (bursts make one). */
const RELOAD_DELAY_MS = 500;

/**
 * The Compare widget (put in a `MainAreaWidget`).
 */
export class CompareWidget extends ReactWidget {
  constructor(options: CompareWidget.IOptions) {
    super();
    this._options = options;
    this.ids = [...options.ids];
    this.addClass('jp-mlops-compare-widget');
    this.addClass('jp-mlops-root');
    this._watcher = new RunWatcher({
      model: options.model,
      ids: () => this.ids,
      delay: RELOAD_DELAY_MS,
      reload: () => this.reload()
    });
    void this.reload();
  }

  readonly ids: string[];

  async reload(): Promise<void> {
    const generation = ++this._generation;
    this._state.loading = true;
    this.update();
    const results = await Promise.all(
      this.ids.map(id =>
        this._options.client.getRun(id).then(
          value => ({ value, reason: null as unknown }),
          (reason: unknown) => ({ value: null, reason })
        )
      )
    );
    if (generation !== this._generation || this.isDisposed) {
      return;
    }
    const runs: IRunDetail[] = [];
    const errors: string[] = [];
    results.forEach((result, i) => {
      if (result.value) {
        runs.push(result.value);
      } else {
        errors.push(`${this.ids[i]}: ${errorMessage(result.reason)}`);
      }
    });
    this._state.runs = runs;
    this._state.version++;
    this._state.error = errors.length ? errors.join('\n') : null;
    this._state.loading = false;
    this.update();
  }

  dispose(): void {
    if (this.isDisposed) {
      return;
    }
    this._watcher.dispose();
    super.dispose();
  }

  protected render(): JSX.Element {
    return (
      <CompareView
        {...this._state}
        trans={this._options.trans}
        client={this._options.client}
        onOpen={this._options.onOpen}
      />
    );
  }

  private _options: CompareWidget.IOptions;
  private _state: ICompareState = {
    runs: [],
    error: null,
    loading: false,
    version: 0
  };
  private _generation = 0;
  private _watcher: RunWatcher;
}

export namespace CompareWidget {
  export interface IOptions {
    ids: string[];
    client: MLOpsClient;
    model: RunsModel;
    trans: TranslationBundle;
    onOpen: (id: string) => void;
  }
}
