/**
 * The run detail: everything about one run, its actions (cancel, reproduce,
 * delete) and the executed notebook, shown sandboxed.
 */
import { TranslationBundle } from '@jupyterlab/translation';
import { ReactWidget } from '@jupyterlab/ui-components';
import { Message } from '@lumino/messaging';
import * as React from 'react';

import {
  IArtifact,
  IRunDetail,
  IRunEvent,
  isActive,
  JSONValue,
  MLOpsClient
} from './api';
import {
  basename,
  formatBytes,
  formatDuration,
  formatTime,
  formatValue,
  shortSha,
  statusLabel
} from './format';
import { IRunChange, RunsModel } from './model';
import { Progress, StatusBadge, useTicker } from './components';
import { RunMetrics, RunMetricsView } from './metrics';

/** Milliseconds between metric refreshes while the run is going. */
export const METRICS_LIVE_MS = 2000;

/** Names the runner gives the executed notebook and its HTML rendering. */
export const OUTPUT_HTML = 'output.html';

/** Remove ANSI color codes from a traceback. */
export function stripAnsi(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/\u001b\[[0-9;]*[A-Za-z]/g, '');
}

/** Actions the detail view asks its host for. */
export interface IRunActions {
  cancel(id: string): Promise<void>;
  reproduce(id: string): Promise<void>;
  remove(id: string): Promise<boolean>;
  openRun(id: string): void;
  openNotebook(path: string): void;
}

interface IDetailProps {
  detail: IRunDetail | null;
  error: string | null;
  deleted: boolean;
  busy: string | null;
  htmlUrl: string;
  client: MLOpsClient;
  trans: TranslationBundle;
  actions: IRunActions;
  onRefresh: () => void;
  runId: string;
  metrics: RunMetrics;
}

function Section(props: {
  title: string;
  className?: string;
  children: React.ReactNode;
}): JSX.Element {
  return (
    <section className={`jp-mlops-section ${props.className ?? ''}`}>
      <h3 className="jp-mlops-section-title">{props.title}</h3>
      {props.children}
    </section>
  );
}

function KeyValues(props: {
  rows: Array<[string, React.ReactNode]>;
  className?: string;
}): JSX.Element {
  return (
    <table className={`jp-mlops-kv ${props.className ?? ''}`}>
      <tbody>
        {props.rows.map(([key, value]) => (
          <tr key={key}>
            <th scope="row">{key}</th>
            <td>{value}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function Timeline(props: {
  events: IRunEvent[];
  trans: TranslationBundle;
}): JSX.Element {
  const { trans } = props;
  return (
    <ol className="jp-mlops-timeline">
      {props.events.map((event, i) => (
        <li key={i} data-status={event.status ?? undefined}>
          <time dateTime={event.at}>{formatTime(event.at)}</time>
          <span
            className={`jp-mlops-timeline-status jp-mlops-status-text-${event.status}`}
          >
            {event.status
              ? statusLabel(event.status as IRunDetail['status'], trans)
              : ''}
          </span>
          {event.message && (
            <span className="jp-mlops-timeline-message">{event.message}</span>
          )}
        </li>
      ))}
    </ol>
  );
}

/** `12,345` */
function formatCount(value: JSONValue | undefined): string | null {
  return typeof value === 'number' ? value.toLocaleString('en-US') : null;
}

/**
 * What an artifact's `meta` says, shortly: for a model (`log_model`) the
 * architecture, parameter counts, dtypes and torch version; the rest on hover.
 */
export function ArtifactMeta(props: {
  artifact: IArtifact;
  trans: TranslationBundle;
}): JSX.Element | null {
  const { artifact, trans } = props;
  const meta = artifact.meta ?? {};
  const hidden = new Set(['sha256']);
  const title = Object.entries(meta)
    .filter(([k]) => !hidden.has(k))
    .map(([k, v]) => `${k}: ${typeof v === 'string' ? v : JSON.stringify(v)}`)
    .join('\n');
  if (artifact.kind !== 'model') {
    return title ? (
      <span className="jp-mlops-artifact-meta" title={title}>
        {artifact.content_type}
      </span>
    ) : (
      <span className="jp-mlops-artifact-meta">{artifact.content_type}</span>
    );
  }
  const architecture =
    typeof meta.architecture === 'string' ? meta.architecture : null;
  const qualname =
    typeof meta.qualname === 'string'
      ? meta.qualname
      : architecture?.split('.').pop();
  const params = formatCount(meta.parameters);
  const trainable =
    meta.trainable_parameters !== meta.parameters
      ? formatCount(meta.trainable_parameters)
      : null;
  const dtypes = Array.isArray(meta.dtypes) ? meta.dtypes.join(', ') : null;
  const torch =
    typeof meta.torch_version === 'string' ? meta.torch_version : null;
  return (
    <span
      className="jp-mlops-artifact-meta jp-mlops-model-meta"
      title={title}
      data-architecture={architecture ?? undefined}
    >
      {qualname && (
        <code className="jp-mlops-model-arch" title={architecture ?? ''}>
          {qualname}
        </code>
      )}
      {params && (
        <span className="jp-mlops-model-params">
          {trans.__('%1 parameters', params)}
          {trainable ? ` (${trans.__('%1 trainable', trainable)})` : ''}
        </span>
      )}
      {dtypes && <span>{dtypes}</span>}
      {torch && <span>{trans.__('torch %1', torch)}</span>}
    </span>
  );
}

function Artifacts(props: {
  runId: string;
  artifacts: IArtifact[];
  client: MLOpsClient;
  trans: TranslationBundle;
}): JSX.Element {
  const { trans } = props;
  if (!props.artifacts.length) {
    return <p className="jp-mlops-hint">{trans.__('No artifacts yet.')}</p>;
  }
  return (
    <table className="jp-mlops-table jp-mlops-artifacts">
      <thead>
        <tr>
          <th scope="col">{trans.__('Name')}</th>
          <th scope="col">{trans.__('Kind')}</th>
          <th scope="col">{trans.__('Size')}</th>
          <th scope="col">{trans.__('Details')}</th>
          <th scope="col">{trans.__('Created')}</th>
        </tr>
      </thead>
      <tbody>
        {props.artifacts.map(a => (
          <tr key={a.name}>
            <td>
              <a
                href={props.client.artifactUrl(props.runId, a.name)}
                download={basename(a.name)}
                title={`sha256 ${a.sha256}`}
              >
                {a.name}
              </a>
            </td>
            <td>{a.kind}</td>
            <td>{formatBytes(a.size)}</td>
            <td>
              <ArtifactMeta artifact={a} trans={trans} />
            </td>
            <td>{formatTime(a.created_at)}</td>
          </tr>
        ))}
      </tbody>
    </table>
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
          <div className="jp-mlops-panel-error" role="alert">
            {props.error}
          </div>
        ) : (
          <p className="jp-mlops-hint" role="status">
            {trans.__('Loading…')}
          </p>
        )}
      </div>
    );
  }
  const active = isActive(run.status);
  const html = run.artifacts.find(a => a.name === OUTPUT_HTML);
  const params = Object.entries(run.parameters);
  const snapshot = run.snapshot;
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
        <div className="jp-mlops-detail-actions">
          {active && (
            <button
              type="button"
              className="jp-Button jp-mod-styled jp-mod-warn jp-mlops-cancel"
              disabled={busy !== null}
              onClick={() => void actions.cancel(run.id)}
            >
              {busy === 'cancel' ? trans.__('Cancelling…') : trans.__('Cancel')}
            </button>
          )}
          <button
            type="button"
            className="jp-Button jp-mod-styled jp-mod-accept jp-mlops-reproduce"
            disabled={busy !== null}
            title={trans.__(
              'Run again with the same commit, parameters, seed and kernel'
            )}
            onClick={() => void actions.reproduce(run.id)}
          >
            {trans.__('Reproduce')}
          </button>
          <button
            type="button"
            className="jp-Button jp-mod-styled jp-mod-warn jp-mlops-delete"
            disabled={busy !== null || active}
            title={
              active
                ? trans.__('Cancel the run before deleting it')
                : trans.__('Delete the run, its snapshot ref and its files')
            }
            onClick={() => void actions.remove(run.id)}
          >
            {trans.__('Delete')}
          </button>
          <button
            type="button"
            className="jp-Button jp-mod-styled jp-mlops-open-source"
            onClick={() => actions.openNotebook(run.notebook)}
            title={trans.__('Open the notebook as it is now on disk')}
          >
            {trans.__('Open notebook')}
          </button>
          <button
            type="button"
            className="jp-Button jp-mod-styled jp-mlops-reload"
            onClick={props.onRefresh}
          >
            {trans.__('Refresh')}
          </button>
        </div>
      </header>
      {props.error && (
        <div className="jp-mlops-panel-error" role="alert">
          {props.error}
        </div>
      )}
      {run.status_reason && (
        <p className="jp-mlops-status-reason">{run.status_reason}</p>
      )}

      <RunMetricsView metrics={props.metrics} active={active} trans={trans} />

      {run.error && (
        <Section title={trans.__('Error')} className="jp-mlops-error-section">
          <p className="jp-mlops-error-summary">
            {run.error.cell_index !== null &&
              trans.__('Cell %1: ', run.error.cell_index)}
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

        <Section title={trans.__('Parameters')}>
          {params.length ? (
            <table className="jp-mlops-table jp-mlops-params-table">
              <thead>
                <tr>
                  <th scope="col">{trans.__('Name')}</th>
                  <th scope="col">{trans.__('Value')}</th>
                  <th scope="col">{trans.__('Type')}</th>
                </tr>
              </thead>
              <tbody>
                {params.map(([name, value]) => (
                  <tr key={name} data-param={name}>
                    <th scope="row">{name}</th>
                    <td>
                      <code>{formatValue(value)}</code>
                    </td>
                    <td>{run.parameter_types?.[name] ?? ''}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          ) : (
            <p className="jp-mlops-hint">
              {trans.__("The notebook's defaults (no parameter overridden).")}
            </p>
          )}
        </Section>

        <Section title={trans.__('Snapshot')}>
          <KeyValues
            rows={[
              [
                trans.__('Commit'),
                <code key="c" title={snapshot?.commit ?? run.commit}>
                  {shortSha(snapshot?.commit ?? run.commit)}
                </code>
              ],
              [trans.__('Ref'), <code key="r">{snapshot?.ref ?? ''}</code>],
              [trans.__('Branch'), snapshot?.branch ?? '—'],
              [
                trans.__('Based on'),
                snapshot?.base_commit ? (
                  <code key="b" title={snapshot.base_commit}>
                    {shortSha(snapshot.base_commit)}
                  </code>
                ) : (
                  '—'
                )
              ],
              [
                trans.__('Uncommitted changes'),
                snapshot?.dirty ? trans.__('yes') : trans.__('no')
              ],
              [
                trans.__('Repository'),
                snapshot?.private_repo
                  ? trans.__('private (notebook outside any git repository)')
                  : (snapshot?.worktree ?? '')
              ]
            ]}
          />
        </Section>

        <Section title={trans.__('Status history')}>
          <Timeline events={run.status_history} trans={trans} />
        </Section>

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

      <Section
        title={trans.__('Executed notebook')}
        className="jp-mlops-output"
      >
        {html ? (
          <iframe
            key={html.sha256}
            className="jp-mlops-output-frame"
            title={trans.__('Executed notebook of run %1', run.id)}
            sandbox="allow-scripts allow-popups"
            referrerPolicy="no-referrer"
            src={`${props.htmlUrl}?v=${html.sha256.slice(0, 12)}`}
          />
        ) : (
          <p className="jp-mlops-hint">
            {active
              ? trans.__(
                  'The executed notebook appears here when the run ends.'
                )
              : trans.__('This run left no executed notebook.')}
          </p>
        )}
      </Section>
    </div>
  );
}

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
    options.model.runChanged.connect(this._onRunChanged, this);
    void this.reload();
  }

  /** The run's metric keys and series (refreshed live while it runs). */
  readonly metrics: RunMetrics;

  readonly runId: string;

  /** The run as last loaded. */
  get detail(): IRunDetail | null {
    return this._detail;
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
      const wasActive = this._detail ? isActive(this._detail.status) : false;
      this._detail = detail;
      this._error = null;
      void this.metrics.refresh();
      this._updateLive(wasActive);
    } catch (error) {
      if (generation !== this._generation || this.isDisposed) {
        return;
      }
      this._error = RunsModel.errorMessage(error);
    }
    this.update();
  }

  /** Run an action, showing it as busy meanwhile. */
  async act(name: string, action: () => Promise<unknown>): Promise<void> {
    this._busy = name;
    this.update();
    try {
      await action();
      this._error = null;
    } catch (error) {
      this._error = RunsModel.errorMessage(error);
    } finally {
      this._busy = null;
      if (!this.isDisposed && !this._deleted) {
        this.update();
        void this.reload();
      }
    }
  }

  dispose(): void {
    if (this.isDisposed) {
      return;
    }
    this._options.model.runChanged.disconnect(this._onRunChanged, this);
    if (this._timer !== null) {
      window.clearTimeout(this._timer);
    }
    this._stopLive();
    if (this._finalTimer !== null) {
      window.clearTimeout(this._finalTimer);
    }
    this.metrics.dispose();
    super.dispose();
  }

  protected onAfterShow(msg: Message): void {
    super.onAfterShow(msg);
    if (this._liveTimer !== null) {
      void this.metrics.refresh();
    }
  }

  protected render(): JSX.Element {
    const { client, trans, actions } = this._options;
    const wrapped: IRunActions = {
      cancel: id => this.act('cancel', () => actions.cancel(id)),
      reproduce: id => this.act('reproduce', () => actions.reproduce(id)),
      remove: async id => {
        let removed = false;
        await this.act('delete', async () => {
          removed = await actions.remove(id);
        });
        return removed;
      },
      openRun: id => actions.openRun(id),
      openNotebook: path => actions.openNotebook(path)
    };
    return (
      <RunDetailView
        runId={this.runId}
        detail={this._detail}
        error={this._error}
        deleted={this._deleted}
        busy={this._busy}
        htmlUrl={client.htmlUrl(this.runId)}
        client={client}
        trans={trans}
        actions={wrapped}
        metrics={this.metrics}
        onRefresh={() => void this.reload()}
      />
    );
  }

  private _onRunChanged(_: RunsModel, change: IRunChange): void {
    if (change.id !== this.runId) {
      return;
    }
    if (change.run === null) {
      this._deleted = true;
      this.update();
      this.onDeleted?.();
      return;
    }
    if (this._detail) {
      // Show the new status and progress at once; details follow.
      this._detail = { ...this._detail, ...change.run };
      this.update();
    }
    if (this._timer !== null) {
      window.clearTimeout(this._timer);
    }
    this._timer = window.setTimeout(() => {
      this._timer = null;
      void this.reload();
    }, 250);
  }

  private _onMetricsChanged(): void {
    this.update();
  }

  /**
   * While the run is going, refresh its metrics every {@link METRICS_LIVE_MS}
   * (metric points come without events; skipped while hidden). When it has
   * just ended, refresh once more a little later for the last flushed points.
   */
  private _updateLive(wasActive: boolean): void {
    const active = !!this._detail && isActive(this._detail.status);
    if (active && this._liveTimer === null) {
      this._liveTimer = window.setInterval(() => {
        if (this.isVisible) {
          void this.metrics.refresh();
        }
      }, METRICS_LIVE_MS);
    } else if (!active) {
      this._stopLive();
      if (wasActive && this._finalTimer === null) {
        this._finalTimer = window.setTimeout(() => {
          this._finalTimer = null;
          void this.metrics.refresh();
        }, 1500);
      }
    }
  }

  private _stopLive(): void {
    if (this._liveTimer !== null) {
      window.clearInterval(this._liveTimer);
      this._liveTimer = null;
    }
  }

  private _options: RunDetailWidget.IOptions;
  private _liveTimer: number | null = null;
  private _finalTimer: number | null = null;
  private _detail: IRunDetail | null = null;
  private _error: string | null = null;
  private _busy: string | null = null;
  private _deleted = false;
  private _generation = 0;
  private _timer: number | null = null;
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
