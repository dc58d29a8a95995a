/**
 * The run detail: everything about one run, its actions (cancel, reproduce,
 * delete) and the executed notebook, shown sandboxed.
 */
import { TranslationBundle } from '@jupyterlab/translation';
import { ReactWidget } from '@jupyterlab/ui-components';
import { Message } from '@lumino/messaging';
import * as React from 'react';
import { Debouncer, Poll } from '@lumino/polling';

import type { IReproduceOptions, IRunDetail, MLOpsClient } from './api';
import {
  ErrorBanner,
  Progress,
  Section,
  StatusBadge,
  useTicker
} from './components';
import { basename, formatDuration, formatTime, stripAnsi } from './format';
import { LiveOutput } from './liveOutput';
import { RunMetricsView } from './metrics';
import { ExecutedNotebookSection } from './executedNotebook';
import type { RunsModel } from './model';
import { disposePoll, intervalPoll, isStopped, startLater } from './polling';
import { errorMessage } from './request';
import { Artifacts, KeyValues, Timeline } from './runFacts';
import { RunInputs } from './runInputs';
import { cellLabel } from './runErrors';
import { ParametersSection } from './runParams';
import { SnapshotSection } from './runSnapshot';
import { RunMetrics } from './runMetrics';
import { RunWatcher } from './runWatcher';
import { isActive } from './status';
import { reproduceButtons, RunVerificationViews } from './verification';

/** Milliseconds between metric refreshes while the run is going. */
export const METRICS_LIVE_MS = 2000;

export { OUTPUT_HTML, OUTPUT_NOTEBOOK } from './executedNotebook';

/** Actions the detail view asks its host for. */
export interface IRunActions {
  cancel(id: string): Promise<void>;
  reproduce(id: string, options?: IReproduceOptions): Promise<void>;
  remove(id: string): Promise<boolean>;
  openRun(id: string): void;
  openNotebook(path: string): void;
  /** The executed notebook as a read-only JupyterLab notebook. */
  openExecutedNotebook(run: IRunDetail): void;
  /** The notebook as the run's snapshot holds it, read-only. */
  openRunCode(run: IRunDetail): void;
  /** A commit: jupyterlab-git's history when installed, else copied. */
  openCommit(run: IRunDetail, sha: string): void;
}

/** What the detail widget knows of its run, drawn as it changes. */
interface IDetailState {
  detail: IRunDetail | null;
  error: string | null;
  deleted: boolean;
  /** The action under way (its buttons are disabled meanwhile). */
  busy: string | null;
}

interface IDetailProps extends IDetailState {
  client: MLOpsClient;
  trans: TranslationBundle;
  actions: IRunActions;
  onRefresh: () => void;
  /** Read the run again (keeps an action's error, unlike Refresh). */
  onReload: () => void;
  runId: string;
  metrics: RunMetrics;
  model: RunsModel;
}

/** The header's buttons: cancel (while active), reproduce, delete, open, refresh. */
function DetailActions(props: {
  run: IRunDetail;
  busy: string | null;
  actions: IRunActions;
  trans: TranslationBundle;
  onRefresh: () => void;
}): JSX.Element {
  const { run, busy, actions, trans } = props;
  const active = isActive(run.status);
  const buttons: Array<{
    className: string;
    label: string;
    title?: string;
    disabled?: boolean;
    onClick: () => void;
  }> = [
    ...(active
      ? [
          {
            className: 'jp-mod-warn jp-mlops-cancel',
            label:
              busy === 'cancel' ? trans.__('Cancelling…') : trans.__('Cancel'),
            disabled: busy !== null,
            onClick: () => void actions.cancel(run.id)
          }
        ]
      : []),
    ...reproduceButtons(run, busy, actions, trans),
    {
      className: 'jp-mod-warn jp-mlops-delete',
      label: trans.__('Delete'),
      title: active
        ? trans.__('Cancel the run before deleting it')
        : trans.__('Delete the run, its snapshot ref and its files'),
      disabled: busy !== null || active,
      onClick: () => void actions.remove(run.id)
    },
    {
      className: 'jp-mlops-open-source',
      label: trans.__('Open notebook'),
      title: trans.__('Open the notebook as it is now on disk'),
      onClick: () => actions.openNotebook(run.notebook_in_root ?? run.notebook)
    },
    {
      className: 'jp-mlops-open-code',
      label: trans.__("Open this run's code"),
      title: trans.__(
        'Open the notebook as the run ran it (its snapshot commit), read-only'
      ),
      disabled: !run.commit,
      onClick: () => actions.openRunCode(run)
    },
    {
      className: 'jp-mlops-reload',
      label: trans.__('Refresh'),
      onClick: props.onRefresh
    }
  ];
  return (
    <div className="jp-mlops-detail-actions">
      {buttons.map(button => (
        <button
          key={button.className}
          type="button"
          className={`jp-Button jp-mod-styled ${button.className}`}
          disabled={button.disabled}
          title={button.title}
          onClick={button.onClick}
        >
          {button.label}
        </button>
      ))}
    </div>
  );
}

function RunDetailView(props: IDetailProps): JSX.Element {
  const { detail: run, trans, actions, busy } = props;
  const now = useTicker(!!run && isActive(run.status));
  if (props.deleted) {
    return (
      <div className="jp-mlops-detail">
        <p className="jp-mlops-hint">
          {trans.__('Run %1 was deleted.', props.runId)}
        </p>
      </div>
    );
  }
  if (!run) {
    return (
      <div className="jp-mlops-detail">
        {props.error ? (
          <ErrorBanner error={props.error} />
        ) : (
          <p className="jp-mlops-hint" role="status">
            {trans.__('Loading…')}
          </p>
        )}
      </div>
    );
  }
  const active = isActive(run.status);
  return (
    <div
      className="jp-mlops-detail"
      data-run-id={run.id}
      data-status={run.status}
    >
      <header className="jp-mlops-detail-header">
        <div className="jp-mlops-detail-title">
          <h2 title={run.notebook}>{basename(run.notebook)}</h2>
          <StatusBadge
            status={run.status}
            reason={run.status_reason}
            trans={trans}
          />
          <Progress run={run} now={now} trans={trans} />
        </div>
        <DetailActions
          run={run}
          busy={busy}
          actions={actions}
          trans={trans}
          onRefresh={props.onRefresh}
        />
      </header>
      <ErrorBanner error={props.error} />
      {run.status_reason && (
        <p className="jp-mlops-status-reason">{run.status_reason}</p>
      )}
      {run.fired_by && <p className="jp-mlops-fired-by">{run.fired_by}</p>}
      {run.warnings?.length ? (
        <ul className="jp-mlops-run-warnings" aria-label={trans.__('Warnings')}>
          {run.warnings.map((warning, index) => (
            <li key={index}>{warning}</li>
          ))}
        </ul>
      ) : null}

      <RunVerificationViews run={run} trans={trans} />
      <RunMetricsView metrics={props.metrics} active={active} trans={trans} />
      <LiveOutput run={run} model={props.model} trans={trans} />

      {run.error && (
        <Section title={trans.__('Error')} className="jp-mlops-error-section">
          <p className="jp-mlops-error-summary">
            {cellLabel(run.error, trans)}
            <strong>{run.error.ename}</strong>
            {run.error.evalue ? `: ${run.error.evalue}` : ''}
          </p>
          {run.error.traceback && (
            <pre className="jp-mlops-traceback">
              {stripAnsi(run.error.traceback)}
            </pre>
          )}
        </Section>
      )}

      <div className="jp-mlops-detail-grid">
        <Section title={trans.__('Run')}>
          <KeyValues
            rows={[
              [trans.__('Id'), <code key="id">{run.id}</code>],
              [trans.__('Notebook'), run.notebook],
              [trans.__('Kernel'), run.kernel],
              [trans.__('Seed'), <code key="seed">{run.seed}</code>],
              [trans.__('GPUs'), String(run.gpus)],
              [
                trans.__('Timeout'),
                run.timeout_s ? formatDuration(run.timeout_s) : trans.__('none')
              ],
              [trans.__('Created'), formatTime(run.created_at)],
              [trans.__('Started'), formatTime(run.started_at)],
              [trans.__('Finished'), formatTime(run.finished_at)],
              [trans.__('Source'), run.source],
              [
                trans.__('Tags'),
                run.tags.length
                  ? run.tags.map(t => (
                      <span key={t} className="jp-mlops-tag">
                        {t}
                      </span>
                    ))
                  : '—'
              ],
              ...(run.reproduced_from
                ? ([
                    [
                      trans.__('Reproduces'),
                      <button
                        key="repro"
                        type="button"
                        className="jp-mlops-linkbutton"
                        onClick={() => actions.openRun(run.reproduced_from!)}
                      >
                        {run.reproduced_from}
                      </button>
                    ]
                  ] as Array<[string, React.ReactNode]>)
                : [])
            ]}
          />
        </Section>

        <ParametersSection run={run} trans={trans} />

        <SnapshotSection
          run={run}
          trans={trans}
          onOpenCommit={sha => actions.openCommit(run, sha)}
        />

        <Section title={trans.__('Status history')}>
          <Timeline events={run.status_history} trans={trans} />
        </Section>

        <RunInputs {...props} />
        <Section title={trans.__('Artifacts')}>
          <Artifacts
            runId={run.id}
            artifacts={run.artifacts}
            client={props.client}
            trans={trans}
          />
        </Section>
      </div>

      <details className="jp-mlops-environment">
        <summary>{trans.__('Environment')}</summary>
        {run.environment ? (
          <pre>{JSON.stringify(run.environment, null, 2)}</pre>
        ) : (
          <p className="jp-mlops-hint">{trans.__('Not captured yet.')}</p>
        )}
      </details>

      <ExecutedNotebookSection
        run={run}
        client={props.client}
        trans={trans}
        onOpenNotebook={() => actions.openExecutedNotebook(run)}
        onHtmlRendered={props.onReload}
      />
    </div>
  );
}

/** Wait after the run ended before fetching its metrics once more. */
const FINAL_METRICS_MS = 1500;
/** Wait after a run event before reloading the detail (bursts make one). */
const RELOAD_DELAY_MS = 250;

/**
 * The run detail widget (put in a `MainAreaWidget`).
 */
export class RunDetailWidget extends ReactWidget {
  constructor(options: RunDetailWidget.IOptions) {
    super();
    this.runId = options.runId;
    this._options = options;
    this.addClass('jp-mlops-detail-widget');
    this.addClass('jp-mlops-root');
    this.metrics = new RunMetrics({
      client: options.client,
      runId: options.runId
    });
    this.metrics.changed.connect(this._onMetricsChanged, this);
    this._watcher = new RunWatcher({
      model: options.model,
      ids: () => [this.runId],
      delay: RELOAD_DELAY_MS,
      reload: () => this.reload(),
      onChange: change => {
        if (change.run === null) {
          this._state.deleted = true;
          this.update();
          this.onDeleted?.();
          return false;
        }
        if (this._state.detail) {
          // Show the new status and progress at once; details follow.
          this._state.detail = { ...this._state.detail, ...change.run };
          this.update();
        }
        return true;
      }
    });
    // Metric points come without events: refresh them while the run is
    // going, skipped while the detail is hidden.
    this._livePoll = intervalPoll(
      () => this.metrics.refresh(),
      METRICS_LIVE_MS,
      () => !this.isVisible
    );
    this._finalMetrics = new Debouncer(
      () => this.metrics.refresh(),
      FINAL_METRICS_MS
    );
    void this.reload();
  }

  /** The run's metric keys and series (refreshed live while it runs). */
  readonly metrics: RunMetrics;

  readonly runId: string;

  /** The run as last loaded. */
  get detail(): IRunDetail | null {
    return this._state.detail;
  }

  /** Emitted-like hook: called once the run is known to be deleted. */
  onDeleted: (() => void) | null = null;

  async reload(): Promise<void> {
    const generation = ++this._generation;
    try {
      const detail = await this._options.client.getRun(this.runId);
      if (generation !== this._generation || this.isDisposed) {
        return;
      }
      const wasActive = this._state.detail
        ? isActive(this._state.detail.status)
        : false;
      this._state.detail = detail;
      if (this._errorFromLoad) {
        // a failed load's error goes; an action's (a refused reproduce) stays
        this._state.error = null;
        this._errorFromLoad = false;
      }
      void this.metrics.refresh();
      this._updateLive(wasActive);
    } catch (error) {
      if (generation !== this._generation || this.isDisposed) {
        return;
      }
      this._state.error = errorMessage(error);
      this._errorFromLoad = true;
    }
    this.update();
  }

  /** Run an action, showing it as busy meanwhile. */
  async act(name: string, action: () => Promise<unknown>): Promise<void> {
    this._state.busy = name;
    this.update();
    try {
      await action();
      this._state.error = null;
    } catch (error) {
      this._state.error = errorMessage(error);
      this._errorFromLoad = false;
    } finally {
      this._state.busy = null;
      if (!this.isDisposed && !this._state.deleted) {
        this.update();
        void this.reload();
      }
    }
  }

  dispose(): void {
    if (this.isDisposed) {
      return;
    }
    this._watcher.dispose();
    disposePoll(this._livePoll);
    disposePoll(this._finalMetrics);
    this.metrics.dispose();
    super.dispose();
  }

  protected onAfterShow(msg: Message): void {
    super.onAfterShow(msg);
    if (!isStopped(this._livePoll)) {
      void this.metrics.refresh();
    }
  }

  protected render(): JSX.Element {
    const { client, trans, actions } = this._options;
    const wrapped: IRunActions = {
      cancel: id => this.act('cancel', () => actions.cancel(id)),
      reproduce: (id, options) =>
        this.act('reproduce', () => actions.reproduce(id, options)),
      remove: async id => {
        let removed = false;
        await this.act('delete', async () => {
          removed = await actions.remove(id);
        });
        return removed;
      },
      openRun: id => actions.openRun(id),
      openNotebook: path => actions.openNotebook(path),
      openExecutedNotebook: run => actions.openExecutedNotebook(run),
      openRunCode: run => actions.openRunCode(run),
      openCommit: (run, sha) => actions.openCommit(run, sha)
    };
    return (
      <RunDetailView
        {...this._state}
        runId={this.runId}
        client={client}
        trans={trans}
        actions={wrapped}
        metrics={this.metrics}
        model={this._options.model}
        onRefresh={() => {
          this._state.error = null; // asked again: what went wrong before goes
          void this.reload();
        }}
        onReload={() => void this.reload()}
      />
    );
  }

  private _onMetricsChanged(): void {
    this.update();
  }

  /**
   * While the run is going, refresh its metrics every {@link METRICS_LIVE_MS}.
   * When it has just ended, refresh once more a little later for the last
   * flushed points.
   */
  private _updateLive(wasActive: boolean): void {
    const active = !!this._state.detail && isActive(this._state.detail.status);
    if (active && isStopped(this._livePoll)) {
      void startLater(this._livePoll);
    } else if (!active) {
      if (!isStopped(this._livePoll)) {
        void this._livePoll.stop();
      }
      if (wasActive) {
        void this._finalMetrics.invoke();
      }
    }
  }

  private _options: RunDetailWidget.IOptions;
  private _watcher: RunWatcher;
  private _livePoll: Poll;
  private _finalMetrics: Debouncer;
  private _state: IDetailState = {
    detail: null,
    error: null,
    deleted: false,
    busy: null
  };
  private _generation = 0;
  /** Whether the error shown is a failed load's (cleared by the next load). */
  private _errorFromLoad = false;
}

export namespace RunDetailWidget {
  export interface IOptions {
    runId: string;
    client: MLOpsClient;
    model: RunsModel;
    trans: TranslationBundle;
    actions: IRunActions;
  }
}
