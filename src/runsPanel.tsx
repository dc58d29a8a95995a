/**
 * The side panel: run history, newest first, with live status, filters,
 * paging, a selection for Compare, and metric columns (latest value of
 * chosen keys) by which the loaded runs can be sorted.
 */
import { TranslationBundle } from '@jupyterlab/translation';
import {
  clearIcon,
  tableRowsIcon,
  ToolbarButtonComponent
} from '@jupyterlab/ui-components';
import { Debouncer } from '@lumino/polling';
import * as React from 'react';

import type { IRunSummary } from './api';
import { givenParameters } from './compareRows';
import {
  ErrorBanner,
  Loading,
  ParamsGlance,
  Progress,
  StatusBadge,
  useTicker
} from './components';
import {
  basename,
  formatAgo,
  formatMetric,
  formatTime,
  statusLabel
} from './format';
import type { RunsModel } from './model';
import { ModelPanel, PanelHeader } from './modelPanel';
import { disposePoll } from './polling';
import {
  ACTIVE_FILTER,
  FAILED_FILTER,
  hasFilters as anyFilter,
  IRunFilters,
  IRunSort,
  nextSort,
  parseColumns,
  statusesOf,
  statusFilterValue
} from './runList';
import { isActive, RUN_STATUSES } from './status';

interface IPanelProps {
  model: RunsModel;
  trans: TranslationBundle;
  onOpen: (id: string) => void;
  onCompare: (ids: string[]) => void;
  /** Open the runs table in the main area (a header button when given). */
  onOpenTable?: () => void;
  /** The newest pipeline runs, shown above the filters when given. */
  pipelineRuns?: JSX.Element;
}

/** Milliseconds of typing pause before a text filter applies. */
const FILTER_DELAY_MS = 400;

/** A text filter that applies after the user pauses typing (or on Enter). */
function FilterInput(props: {
  id: string;
  label: string;
  placeholder: string;
  value: string;
  list?: string[];
  onApply: (value: string) => void;
}): JSX.Element {
  const [text, setText] = React.useState(props.value);
  const latest = React.useRef(props);
  latest.current = props;
  const debouncer = React.useMemo(
    () =>
      new Debouncer((value: string) => {
        if (value !== latest.current.value) {
          latest.current.onApply(value);
        }
      }, FILTER_DELAY_MS),
    []
  );
  React.useEffect(() => setText(props.value), [props.value]);
  React.useEffect(() => () => disposePoll(debouncer), [debouncer]);
  const apply = (value: string) => {
    void debouncer.stop();
    if (value !== props.value) {
      props.onApply(value);
    }
  };
  const listId = props.list ? `${props.id}-list` : undefined;
  return (
    <label className="jp-mlops-filter" htmlFor={props.id}>
      <span className="jp-mlops-filter-label">{props.label}</span>
      <input
        id={props.id}
        type="search"
        className="jp-mod-styled jp-mlops-input"
        placeholder={props.placeholder}
        value={text}
        list={listId}
        onChange={e => {
          const value = e.target.value;
          setText(value);
          if (!debouncer.isDisposed) {
            void debouncer.invoke(value);
          }
        }}
        onKeyDown={e => {
          if (e.key === 'Enter') {
            apply(text);
          }
        }}
        onBlur={() => apply(text)}
      />
      {props.list && (
        <datalist id={listId}>
          {props.list.map(v => (
            <option key={v} value={v} />
          ))}
        </datalist>
      )}
    </label>
  );
}

/** Headers of the metric columns; a click sorts the loaded runs by one. */
function MetricHeader(props: {
  columns: ReadonlyArray<string>;
  sort: IRunSort;
  trans: TranslationBundle;
  onSort: (sort: IRunSort) => void;
}): JSX.Element {
  const { columns, sort, trans } = props;
  return (
    <div
      className="jp-mlops-metric-header"
      role="toolbar"
      aria-label={trans.__('Sort runs by a metric')}
      style={{
        gridTemplateColumns: `repeat(${columns.length}, minmax(0, 1fr))`
      }}
    >
      {columns.map(key => {
        const active = sort.key === key;
        const arrow = active ? (sort.order === 'asc' ? ' ▲' : ' ▼') : '';
        const next = nextSort(sort, key);
        return (
          <button
            key={key}
            type="button"
            className={`jp-mlops-metric-sort${active ? ' jp-mod-active' : ''}`}
            data-metric={key}
            data-order={active ? sort.order : undefined}
            aria-pressed={active}
            title={
              next.key
                ? next.order === 'asc'
                  ? trans.__('Sort by %1, smallest first', key)
                  : trans.__('Sort by %1, largest first', key)
                : trans.__('Back to newest first')
            }
            onClick={() => props.onSort(next)}
          >
            <span className="jp-mlops-metric-sort-label">{key}</span>
            {arrow}
          </button>
        );
      })}
    </div>
  );
}

/** The latest values of the metric columns of one run. */
function MetricCells(props: {
  run: IRunSummary;
  columns: ReadonlyArray<string>;
}): JSX.Element {
  const { run, columns } = props;
  return (
    <span
      className="jp-mlops-run-line jp-mlops-run-metrics"
      style={{
        gridTemplateColumns: `repeat(${columns.length}, minmax(0, 1fr))`
      }}
    >
      {columns.map(key => {
        const has = !!run.metrics && key in run.metrics;
        const value = has ? run.metrics![key] : undefined;
        return (
          <span
            key={key}
            className="jp-mlops-metric-cell"
            data-metric={key}
            data-value={has ? String(value) : undefined}
            title={has ? `${key} = ${value === null ? 'NaN' : value}` : key}
          >
            {has ? formatMetric(value) : '—'}
          </span>
        );
      })}
    </span>
  );
}

function RunRow(props: {
  run: IRunSummary;
  columns: ReadonlyArray<string>;
  selected: boolean;
  now: number;
  trans: TranslationBundle;
  onOpen: (id: string) => void;
  onSelect: (id: string, selected: boolean) => void;
}): JSX.Element {
  const { run, trans } = props;
  const name = basename(run.notebook);
  return (
    <li
      className={`jp-mlops-run${props.selected ? ' jp-mod-selected' : ''}`}
      data-run-id={run.id}
      data-status={run.status}
    >
      <input
        type="checkbox"
        className="jp-mlops-run-select"
        checked={props.selected}
        aria-label={trans.__('Select run %1 (%2) to compare', run.id, name)}
        onChange={e => props.onSelect(run.id, e.target.checked)}
      />
      <button
        type="button"
        className="jp-mlops-run-open"
        title={trans.__('Open run %1', run.id)}
        onClick={() => props.onOpen(run.id)}
      >
        <span className="jp-mlops-run-line">
          <span className="jp-mlops-run-notebook" title={run.notebook}>
            {name}
          </span>
          <StatusBadge
            status={run.status}
            reason={run.status_reason}
            trans={trans}
          />
        </span>
        <span className="jp-mlops-run-line jp-mlops-run-meta">
          <span
            className="jp-mlops-run-when"
            title={formatTime(run.created_at)}
          >
            {formatAgo(run.created_at, trans, props.now)}
          </span>
          {run.submitted_by && (
            <span className="jp-mlops-run-by" title={trans.__('Submitted by')}>
              {trans.__('by %1', run.submitted_by)}
            </span>
          )}
          <Progress run={run} now={props.now} trans={trans} />
        </span>
        {(Object.keys(run.parameters).length > 0 || run.tags.length > 0) && (
          <span className="jp-mlops-run-line jp-mlops-run-extra">
            <ParamsGlance parameters={givenParameters(run)} />
            {run.tags.map(tag => (
              <span key={tag} className="jp-mlops-tag">
                {tag}
              </span>
            ))}
          </span>
        )}
        {props.columns.length > 0 && (
          <MetricCells run={run} columns={props.columns} />
        )}
      </button>
    </li>
  );
}

function RunsPanelView(props: IPanelProps): JSX.Element {
  const { model, trans } = props;
  const runs = model.sortedRuns;
  const columns = model.metricColumns;
  const anyActive = runs.some(r => isActive(r.status));
  const now = useTicker(true, anyActive ? 1000 : 30000);
  const filters = model.filters;
  const selected = model.selected;
  const hasFilters = anyFilter(filters);
  /** The text input of one filter of the model. */
  const textFilter = (
    key: 'q' | 'notebook' | 'tag',
    label: string,
    placeholder: string,
    list?: string[]
  ) => (
    <FilterInput
      id={`jp-mlops-filter-${key}`}
      label={label}
      placeholder={placeholder}
      value={filters[key]}
      list={list}
      onApply={value =>
        void model.setFilters({ [key]: value } as Partial<IRunFilters>)
      }
    />
  );
  const connection =
    model.connection === 'stream'
      ? trans.__('live')
      : model.connection === 'polling'
        ? trans.__('polling every %1 s', model.refreshInterval)
        : '';

  return (
    <div className="jp-mlops-panel-inner">
      <PanelHeader
        title={trans.__('Runs')}
        refreshTooltip={trans.__('Refresh the run list')}
        onRefresh={() => void model.refresh()}
      >
        <span
          className={`jp-mlops-connection jp-mlops-connection-${model.connection}`}
          title={trans.__('How the list learns about changes')}
        >
          {connection}
        </span>
        {props.onOpenTable && (
          <ToolbarButtonComponent
            icon={tableRowsIcon}
            tooltip={trans.__('Open the runs table')}
            onClick={props.onOpenTable}
            className="jp-mlops-open-table"
          />
        )}
      </PanelHeader>
      {props.pipelineRuns}
      <div className="jp-mlops-filters" role="search">
        {textFilter(
          'q',
          trans.__('Search'),
          trans.__('notebook, run id or tag')
        )}
        {textFilter(
          'notebook',
          trans.__('Notebook'),
          trans.__('exact path'),
          model.notebooks
        )}
        <div className="jp-mlops-filter-row">
          <label className="jp-mlops-filter" htmlFor="jp-mlops-filter-status">
            <span className="jp-mlops-filter-label">{trans.__('Status')}</span>
            <select
              id="jp-mlops-filter-status"
              className="jp-mod-styled jp-mlops-input"
              value={statusFilterValue(filters.status)}
              onChange={e =>
                void model.setFilters({ status: statusesOf(e.target.value) })
              }
            >
              <option value="">{trans.__('all')}</option>
              <option value={ACTIVE_FILTER}>{trans.__('active')}</option>
              <option value={FAILED_FILTER}>
                {trans.__('failed, timed out or lost')}
              </option>
              {RUN_STATUSES.map(s => (
                <option key={s} value={s}>
                  {statusLabel(s, trans)}
                </option>
              ))}
            </select>
          </label>
          {textFilter('tag', trans.__('Tag'), trans.__('tag'), model.tags)}
        </div>
        {hasFilters && (
          <button
            type="button"
            className="jp-mlops-linkbutton"
            onClick={() => void model.clearFilters()}
          >
            {trans.__('Clear filters')}
          </button>
        )}
        <FilterInput
          id="jp-mlops-columns"
          label={trans.__('Columns')}
          placeholder={trans.__('metric keys, e.g. loss, val/accuracy')}
          value={columns.join(', ')}
          onApply={text => void model.setMetricColumns(parseColumns(text))}
        />
      </div>
      <div className="jp-mlops-selection" aria-live="polite">
        <span>
          {selected.length
            ? trans._n('%1 run selected', '%1 runs selected', selected.length)
            : trans.__('Select runs to compare them')}
        </span>
        <button
          type="button"
          className="jp-Button jp-mod-styled jp-mod-accept jp-mlops-compare"
          disabled={selected.length < 2}
          onClick={() => props.onCompare([...selected])}
        >
          {trans.__('Compare')}
        </button>
        {selected.length > 0 && (
          <ToolbarButtonComponent
            icon={clearIcon}
            tooltip={trans.__('Clear the selection')}
            onClick={() => model.clearSelection()}
          />
        )}
      </div>
      <ErrorBanner error={model.error} />
      {columns.length > 0 && runs.length > 0 && (
        <MetricHeader
          columns={columns}
          sort={model.sort}
          trans={trans}
          onSort={sort => model.setSort(sort)}
        />
      )}
      <ul className="jp-mlops-runlist" aria-label={trans.__('Run history')}>
        {runs.map(run => (
          <RunRow
            key={run.id}
            run={run}
            columns={columns}
            now={now}
            trans={trans}
            selected={selected.includes(run.id)}
            onOpen={props.onOpen}
            onSelect={(id, on) => model.setSelected(id, on)}
          />
        ))}
      </ul>
      {!runs.length && !model.loading && !model.error && (
        <p className="jp-mlops-empty">
          {hasFilters
            ? trans.__('No run matches these filters.')
            : trans.__(
                'No runs yet. Open a notebook and use "Run as job" to start one.'
              )}
        </p>
      )}
      {model.hasMore && (
        <button
          type="button"
          className="jp-Button jp-mod-styled jp-mlops-loadmore"
          disabled={model.loading}
          onClick={() => void model.loadMore()}
        >
          {trans.__('Load more')}
        </button>
      )}
      {model.loading && !runs.length && <Loading trans={trans} />}
    </div>
  );
}

/**
 * The run history side panel.
 */
export class RunsPanel extends ModelPanel<RunsModel> {
  constructor(options: RunsPanel.IOptions) {
    super(options.model);
    this._props = options;
  }

  protected render(): JSX.Element {
    return <RunsPanelView {...this._props} />;
  }

  private _props: IPanelProps;
}

export namespace RunsPanel {
  export type IOptions = IPanelProps;
}
