/**
 * The runs table in the main area: one row per run, the chosen columns,
 * sorting on the server by a header click, a filter box in the run search
 * syntax (the server's complaint shown under it, at its column), pages, and
 * compare / cancel / delete of the selected runs.
 */
import { TranslationBundle } from '@jupyterlab/translation';
import {
  caretDownIcon,
  caretUpIcon,
  ReactWidget,
  refreshIcon,
  ToolbarButtonComponent,
  UseSignal
} from '@jupyterlab/ui-components';
import * as React from 'react';

import {
  availableColumns,
  cellText,
  columnLabel,
  IColumn,
  parseColumn,
  toggleColumn
} from './columns';
import { RunsTableModel } from './model';

/** What the table asks its host to do with runs. */
export interface IRunsTableActions {
  open(id: string): void;
  compare(ids: string[]): void;
  cancel(ids: string[]): Promise<void>;
  remove(ids: string[]): Promise<void>;
}

interface IViewProps {
  model: RunsTableModel;
  actions: IRunsTableActions;
  trans: TranslationBundle;
}

function FilterBox(props: IViewProps): JSX.Element {
  const { model, trans } = props;
  const [text, setText] = React.useState(model.filter);
  const problem = model.problem;
  return (
    <div className="jp-MLOpsRunsTable-filter">
      <form
        onSubmit={event => {
          event.preventDefault();
          void model.applyFilter(text);
        }}
      >
        <input
          className="jp-mod-styled jp-MLOpsRunsTable-filterInput"
          type="text"
          spellCheck={false}
          aria-label={trans.__('Filter runs')}
          aria-invalid={problem?.column ? true : undefined}
          placeholder={trans.__(
            "params.lr = 0.05 and metrics.val/loss < 0.2 and status = 'failed'"
          )}
          value={text}
          onChange={event => setText(event.target.value)}
        />
        <button type="submit" className="jp-Button jp-mod-styled jp-mod-accept">
          {trans.__('Search')}
        </button>
      </form>
      {problem && (
        <div className="jp-MLOpsRunsTable-problem" role="alert">
          {problem.column !== null && model.filter && (
            <pre className="jp-MLOpsRunsTable-caret">
              {model.filter}
              {'\n'}
              {' '.repeat(Math.max(0, problem.column - 1))}^
            </pre>
          )}
          <span>{problem.message}</span>
        </div>
      )}
    </div>
  );
}

function ColumnChooser(props: IViewProps): JSX.Element {
  const { model, trans } = props;
  const columns = availableColumns(model.keys, model.columns);
  return (
    <details
      className="jp-MLOpsRunsTable-chooser"
      onToggle={event => {
        if ((event.target as HTMLDetailsElement).open && !model.keys) {
          void model.loadKeys();
        }
      }}
    >
      <summary className="jp-Button jp-mod-styled">
        {trans.__('Columns')}
      </summary>
      <div className="jp-MLOpsRunsTable-chooserList" role="group">
        {columns.map(column => (
          <label key={column.id}>
            <input
              type="checkbox"
              checked={model.columns.includes(column.id)}
              onChange={() =>
                model.setColumns(toggleColumn(model.columns, column.id))
              }
            />
            {columnLabel(column)}
          </label>
        ))}
      </div>
    </details>
  );
}

function HeaderCell(props: IViewProps & { column: IColumn }): JSX.Element {
  const { model, column, trans } = props;
  const sorted = model.sort?.column === column.id ? model.sort : null;
  const Icon = sorted?.descending ? caretDownIcon : caretUpIcon;
  const label = columnLabel(column);
  return (
    <th
      scope="col"
      aria-sort={
        sorted ? (sorted.descending ? 'descending' : 'ascending') : 'none'
      }
      data-column={column.id}
    >
      {column.sortable ? (
        <button
          className="jp-MLOpsRunsTable-sort"
          title={trans.__('Sort by %1 (on the server)', label)}
          onClick={() => void model.sortBy(column.id)}
        >
          {label}
          {sorted && <Icon.react tag="span" elementSize="small" />}
        </button>
      ) : (
        label
      )}
    </th>
  );
}

function SelectionBar(props: IViewProps): JSX.Element {
  const { model, actions, trans } = props;
  const ids = [...model.selected];
  return (
    <div className="jp-MLOpsRunsTable-actions">
      <span>{trans._n('%1 selected', '%1 selected', ids.length)}</span>
      <button
        className="jp-Button jp-mod-styled"
        disabled={ids.length < 2}
        onClick={() => actions.compare(ids)}
      >
        {trans.__('Compare')}
      </button>
      <button
        className="jp-Button jp-mod-styled"
        disabled={ids.length === 0}
        onClick={() => void actions.cancel(ids).then(() => model.load())}
      >
        {trans.__('Cancel')}
      </button>
      <button
        className="jp-Button jp-mod-styled jp-mod-warn"
        disabled={ids.length === 0}
        onClick={() => void actions.remove(ids).then(() => model.load())}
      >
        {trans.__('Delete')}
      </button>
    </div>
  );
}

function RunsTableView(props: IViewProps): JSX.Element {
  const { model, actions, trans } = props;
  const columns = model.columns
    .map(parseColumn)
    .filter((c): c is IColumn => c !== null);
  const allSelected =
    model.rows.length > 0 && model.rows.every(r => model.selected.has(r.id));
  return (
    <div className="jp-MLOpsRunsTable" aria-busy={model.loading}>
      <div className="jp-MLOpsRunsTable-toolbar">
        <FilterBox {...props} />
        <ColumnChooser {...props} />
        <ToolbarButtonComponent
          icon={refreshIcon}
          tooltip={trans.__('Reload this page')}
          onClick={() => void model.load()}
        />
      </div>
      <SelectionBar {...props} />
      <div className="jp-MLOpsRunsTable-scroll">
        <table className="jp-MLOpsRunsTable-table">
          <thead>
            <tr>
              <th scope="col">
                <input
                  type="checkbox"
                  aria-label={trans.__('Select every run on this page')}
                  checked={allSelected}
                  onChange={() => model.setAllSelected(!allSelected)}
                />
              </th>
              {columns.map(column => (
                <HeaderCell key={column.id} {...props} column={column} />
              ))}
            </tr>
          </thead>
          <tbody>
            {model.rows.map(run => (
              <tr
                key={run.id}
                data-run-id={run.id}
                className={model.selected.has(run.id) ? 'jp-mod-selected' : ''}
                onDoubleClick={() => actions.open(run.id)}
              >
                <td>
                  <input
                    type="checkbox"
                    aria-label={trans.__('Select run %1', run.id)}
                    checked={model.selected.has(run.id)}
                    onChange={() => model.toggleSelected(run.id)}
                  />
                </td>
                {columns.map(column => (
                  <td
                    key={column.id}
                    data-column={column.id}
                    className={
                      column.id === 'status'
                        ? `jp-MLOpsRunsTable-status jp-mod-${run.status}`
                        : undefined
                    }
                  >
                    {cellText(run, column)}
                  </td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
        {!model.loading && !model.problem && model.rows.length === 0 && (
          <p className="jp-MLOpsRunsTable-empty">
            {trans.__('No runs match.')}
          </p>
        )}
      </div>
      <div className="jp-MLOpsRunsTable-pages">
        <button
          className="jp-Button jp-mod-styled"
          disabled={!model.hasPrevious}
          onClick={() => void model.previousPage()}
        >
          {trans.__('Previous')}
        </button>
        <span>{trans.__('Page %1', model.page + 1)}</span>
        <button
          className="jp-Button jp-mod-styled"
          disabled={!model.nextCursor}
          onClick={() => void model.nextPage()}
        >
          {trans.__('Next')}
        </button>
      </div>
    </div>
  );
}

export class RunsTableWidget extends ReactWidget {
  constructor(options: RunsTableWidget.IOptions) {
    super();
    this.model = options.model;
    this._actions = options.actions;
    this._trans = options.trans;
    this.addClass('jp-MLOpsRunsTable-widget');
  }

  readonly model: RunsTableModel;

  render(): JSX.Element {
    return (
      <UseSignal signal={this.model.changed}>
        {() => (
          <RunsTableView
            model={this.model}
            actions={this._actions}
            trans={this._trans}
          />
        )}
      </UseSignal>
    );
  }

  private _actions: IRunsTableActions;
  private _trans: TranslationBundle;
}

export namespace RunsTableWidget {
  export interface IOptions {
    model: RunsTableModel;
    actions: IRunsTableActions;
    trans: TranslationBundle;
  }
}
