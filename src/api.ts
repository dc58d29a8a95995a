/**
 * Typed client of the jupyter-mlops REST API (`<baseUrl>/mlops/api/`).
 *
 * The shapes come from `schema.d.ts`, generated from the server's
 * `jupyter_mlops/server/openapi.yaml` (`jlpm build:schema`); this file is the
 * one place that maps the schema's component names to the names the rest of
 * `src/` uses, and narrows the few fields the schema leaves open (JSON values
 * typed `unknown`, free-form objects). The client only talks HTTP: state, live
 * updates and caching live in the models.
 */
import { URLExt } from '@jupyterlab/coreutils';
import { ServerConnection } from '@jupyterlab/services';

import { API_NAMESPACE, APIClient, encodePath, queryString } from './request';
import type { components } from './schema';

// -- types -----------------------------------------------------------------------

type Schemas = components['schemas'];

/** `T` with the fields of `R` replaced (to narrow what the schema leaves open). */
type With<T, R> = Omit<T, keyof R> & R;

/** A JSON value. */
export type JSONValue =
  null | boolean | number | string | JSONValue[] | { [key: string]: JSONValue };

/** A JSON object. */
export type JSONObject = { [key: string]: JSONValue };

/**
 * Status of a run. `queued`, `starting` and `running` are active; the others
 * are terminal.
 */
export type RunStatus = Schemas['RunStatus'];

/** Shape of `GET health`. */
export type IHealth = Schemas['Health'];

/**
 * One row of the run list (also the data of the `run` event); `metrics`
 * holds the latest values of the keys asked for with `metrics` in `GET runs`.
 */
export type IRunSummary = With<
  Schemas['RunListItem'],
  { parameters: JSONObject }
>;

/** One status change or cell progress event of a run. */
export type IRunEvent = Schemas['RunEvent'];

/** A file a run produced. */
export type IArtifact = With<Schemas['Artifact'], { meta: JSONObject | null }>;

/** Everything about one run (`GET runs/{id}`). */
export type IRunDetail = With<
  Schemas['RunDetail'],
  {
    parameters: JSONObject;
    artifacts: IArtifact[];
    environment: JSONObject | null;
  }
>;

/** Something a run read: a dataset by content hash (`use_dataset`, a parameter). */
export type IRunInput = With<Schemas['RunInput'], { stats: JSONObject | null }>;

/** `GET runs/{id}/lineage`: the run's commit, inputs and outputs, linked. */
export type IRunLineage = Schemas['RunLineage'];

/** One input of a run's lineage, with the runs and versions of the same data. */
export type ILineageInput = IRunLineage['inputs'][number];

/** `GET datasets`. */
export type IDatasetList = Schemas['DatasetList'];

/** What `reproduce` may ask for: verification, its tolerances and patterns. */
export type IReproduceOptions = Partial<Schemas['ReproduceRequest']>;

/** A verified reproduction: its input check and, once it ended, its verdict. */
export type IRunVerification = Schemas['RunVerification'];

/** One line of a run's reproducibility summary. */
export type IReproducibilityItem = Schemas['ReproducibilityItem'];

/** Two runs' inputs side by side, with drift per column. */
export type IInputsComparison = Schemas['InputsComparison'];

/** The git snapshot a run executed. */
export type ISnapshot = Schemas['RunDetail']['snapshot'];

/** Where the run's runner process lives. */
export type IRunner = Schemas['RunDetail']['runner'];

/** The error that ended a failed run. */
export type IRunError = NonNullable<Schemas['RunDetail']['error']>;

/** One page of `GET runs`. */
export type IRunPage = With<Schemas['RunPage'], { runs: IRunSummary[] }>;

/** One metric key of a run (`GET runs/{id}/metrics`). */
export type IMetricKey = Schemas['MetricKey'];

/** `GET runs/{id}/metrics`. */
export type IRunMetrics = Schemas['RunMetrics'];

/** One metric series of one run, in step order, maybe downsampled. */
export type IMetricSeries = Schemas['MetricSeries'];

/** A `[step, value]` point; value null for NaN or infinite. */
export type MetricPoint = IMetricSeries['points'][number];

/** `GET metrics?run=&key=`: one series per (run, key). */
export type IMetricSeriesSet = Schemas['MetricSeriesSet'];

/** One parameter of a notebook's `parameters` cell. */
export type IParameter = With<Schemas['Parameter'], { default: JSONValue }>;

/** Type of a notebook parameter as inferred by the server. */
export type ParameterType = IParameter['type_name'];

/** `GET notebooks/parameters?path=`. */
export type INotebookParameters = With<
  Schemas['NotebookParameters'],
  { parameters: IParameter[] }
>;

/** `GET kernels`. */
export type IKernels = Schemas['Kernels'];

/** An installed kernel. */
export type IKernelInfo = IKernels['kernels'][number];

/** What torch in a kernel's Python says about CUDA. */
export type IKernelCuda = Schemas['KernelCuda'];

/** A GPU of the server's machine. */
export type IGPU = IKernels['gpus'][number];

/** Body of `POST runs` (the fields with a server default may be left out). */
export type ISubmitRequest = With<
  Schemas['SubmitRequest'],
  { parameters?: JSONObject; gpus?: number; commit?: boolean }
>;

/** Data of the `run_deleted` event. */
export type IRunDeleted = Schemas['RunDeleted'];

/** One piece of a run's live output (a stream write, a result, an error). */
export type IOutputChunk = Schemas['OutputChunk'];

/** `GET runs/{id}/output?after=`: a page of a run's output after a cursor. */
export type IRunOutput = Schemas['RunOutput'];

/** Data of the `output` event: the run has output up to `seq`. */
export type IRunOutputNotice = Schemas['RunOutputNotice'];

/** `GET runs/{id}/diff/{other}`: what changed in the code between two snapshots. */
export type ISnapshotDiff = Schemas['SnapshotDiff'];

/** Which missed slots fire when the scheduler comes back (or a schedule resumes). */
export type CatchupPolicy = Schemas['CatchupPolicy'];

/** What a slot does while the schedule's previous run is still active. */
export type ConcurrencyPolicy = Schemas['ConcurrencyPolicy'];

/** One schedule (`GET schedules`, `POST schedules`, `PATCH schedules/{id}`). */
export type ISchedule = With<Schemas['Schedule'], { parameters: JSONObject }>;

/** `GET schedules/{id}`: the schedule, its next fire times, recent slots and runs. */
export type IScheduleDetail = With<
  Schemas['ScheduleDetail'],
  { parameters: JSONObject }
>;

/** A run of a schedule, as listed in its detail (newest first). */
export type IScheduleRun = IScheduleDetail['runs'][number];

/** A slot the scheduler handled (fired, skipped, waiting, failed to start). */
export type IScheduleFire = IScheduleDetail['fires'][number];

/** Body of `POST schedules`. */
export type IScheduleRequest = Schemas['ScheduleRequest'];

/** Body of `PATCH schedules/{id}`. */
export type IScheduleChanges = Schemas['ScheduleChanges'];

/** One event trigger (`GET triggers`): what it watches, its state, its last run. */
export type ITrigger = With<
  Schemas['Trigger'],
  { parameters: JSONObject; config: JSONObject; state: JSONObject }
>;

/** `GET triggers/{id}`: the trigger and its newest events. */
export type ITriggerDetail = With<
  Schemas['TriggerDetail'],
  { parameters: JSONObject; config: JSONObject; state: JSONObject }
>;

/** An event a trigger saw (a commit, a data version, a metric crossing). */
export type ITriggerEvent = Schemas['TriggerEvent'];

/** Body of `POST triggers`. */
export type ITriggerRequest = Schemas['TriggerRequest'];

/** `GET cron/preview`: whether the server accepts an expression, and when it fires. */
export type ICronPreview = Schemas['CronPreview'];

/** Query of `GET runs` (the client's own shape: arrays repeat the parameter). */
export interface IRunQuery {
  limit?: number;
  cursor?: string | null;
  status?: RunStatus[];
  notebook?: string;
  tag?: string[];
  /** `name:value` filters on parameters. */
  param?: string[];
  /** Case-insensitive substring of the notebook path, run id or a tag. */
  q?: string;
  /** Metric keys whose latest values each run should carry (`metrics`). */
  metrics?: string[];
  /** Run search filter (MLflow's syntax); not with status/notebook/tag/param/q. */
  filter?: string;
  /** `metrics.loss ASC`, `params.lr DESC`, `started`...; NULLs last. */
  order_by?: string;
}

/** `GET runs/keys`: parameter, metric and tag names of the stored runs. */
export type IRunKeys = Schemas['RunKeys'];

/** Most runs and keys one `GET metrics` request may name. */
export const MAX_SERIES_RUNS = 50;
export const MAX_SERIES_KEYS = 20;

// -- client ----------------------------------------------------------------------

/**
 * The jupyter-mlops REST API, one method per endpoint.
 */
export class MLOpsClient extends APIClient {
  constructor(options: MLOpsClient.IOptions = {}) {
    super(options.serverSettings);
  }

  /** Absolute URL of an API path (no auth added). */
  url(...parts: string[]): string {
    return URLExt.join(this.serverSettings.baseUrl, API_NAMESPACE, ...parts);
  }

  /**
   * URL for a plain browser request (EventSource, download link), with the
   * token as a query parameter when the page has one. Never give it to
   * untrusted content (an iframe of run output): use {@link url} there.
   */
  authenticatedUrl(...parts: string[]): string {
    const url = this.url(...parts);
    const token = this.serverSettings.token;
    if (!token) {
      return url;
    }
    const sep = url.includes('?') ? '&' : '?';
    return `${url}${sep}token=${encodeURIComponent(token)}`;
  }

  health(): Promise<IHealth> {
    return this.request<IHealth>('health');
  }

  listRuns(query: IRunQuery = {}): Promise<IRunPage> {
    const search = queryString({
      limit: query.limit,
      cursor: query.cursor,
      status: query.status,
      notebook: query.notebook,
      tag: query.tag,
      param: query.param,
      q: query.q,
      metrics: query.metrics,
      filter: query.filter,
      order_by: query.order_by
    });
    return this.request<IRunPage>(`runs${search}`);
  }

  /** Names for the runs table's column chooser. */
  runKeys(): Promise<IRunKeys> {
    return this.request<IRunKeys>('runs/keys');
  }

  getRun(id: string): Promise<IRunDetail> {
    return this.request<IRunDetail>(this._runPath(id));
  }

  /** The run's lineage: its inputs with other runs and versions of that data. */
  runLineage(id: string): Promise<IRunLineage> {
    return this.request<IRunLineage>(this._runPath(id, 'lineage'));
  }

  listDatasets(): Promise<IDatasetList> {
    return this.request<IDatasetList>('datasets');
  }

  submitRun(request: ISubmitRequest): Promise<IRunSummary> {
    return this.send<IRunSummary>('POST', 'runs', request);
  }

  cancelRun(id: string): Promise<IRunSummary> {
    return this._runAction(id, 'cancel');
  }

  /** Reproduce a run; with `{ verify: true }` checked and compared. */
  reproduceRun(id: string, options?: IReproduceOptions): Promise<IRunSummary> {
    return this.send<IRunSummary>(
      'POST',
      this._runPath(id, 'reproduce'),
      options
    );
  }

  /** Two runs' inputs side by side: same hash or changed, with drift. */
  compareRunInputs(
    baseId: string,
    otherId: string
  ): Promise<IInputsComparison> {
    return this.request<IInputsComparison>(
      this._runPath(baseId, 'input-drift', encodeURIComponent(otherId))
    );
  }

  /**
   * Code difference between two runs' snapshots.
   */
  diffRuns(baseId: string, otherId: string): Promise<ISnapshotDiff> {
    return this.request<ISnapshotDiff>(
      this._runPath(baseId, 'diff', encodeURIComponent(otherId))
    );
  }

  async deleteRun(id: string): Promise<void> {
    await this.send<void>('DELETE', this._runPath(id));
  }

  /** The metric keys of a run, with latest values and series totals. */
  runMetrics(id: string): Promise<IRunMetrics> {
    return this.request<IRunMetrics>(this._runPath(id, 'metrics'));
  }

  /** A run's output after the chunk `after` (0: from the start). */
  runOutput(id: string, after = 0): Promise<IRunOutput> {
    const search = queryString({ after: after || undefined });
    return this.request<IRunOutput>(this._runPath(id, 'output') + search);
  }

  /** One metric series of a run (the key may contain `/`). */
  metricSeries(
    id: string,
    key: string,
    maxPoints?: number
  ): Promise<IMetricSeries & { max_points: number }> {
    const search = queryString({ max_points: maxPoints || undefined });
    return this.request<IMetricSeries & { max_points: number }>(
      this._runPath(id, 'metrics', encodePath(key)) + search
    );
  }

  /**
   * Series of several runs and keys in one request (at most
   * {@link MAX_SERIES_RUNS} runs and {@link MAX_SERIES_KEYS} keys).
   */
  metricSeriesSet(
    runIds: string[],
    keys: string[],
    maxPoints?: number
  ): Promise<IMetricSeriesSet> {
    const search = queryString({
      run: runIds,
      key: keys,
      max_points: maxPoints || undefined
    });
    return this.request<IMetricSeriesSet>(`metrics${search}`);
  }

  /** The executed notebook (nbformat v4 JSON). */
  executedNotebook(id: string): Promise<JSONObject> {
    return this.request<JSONObject>(this._runPath(id, 'notebook'));
  }

  /**
   * URL of the executed notebook rendered as HTML (served sandboxed), in
   * JupyterLab's dark theme when `dark`.
   */
  htmlUrl(id: string, dark = false): string {
    const url = this.url(this._runPath(id, 'html'));
    return dark ? `${url}?theme=dark` : url;
  }

  /** The notebook as the run's snapshot commit holds it (before execution). */
  runCode(id: string): Promise<JSONObject> {
    return this.request<JSONObject>(this._runPath(id, 'code'));
  }

  /** URL to download an artifact (its name may contain `/`). */
  artifactUrl(id: string, name: string, inline = false): string {
    const url = this.authenticatedUrl(
      this._runPath(id, 'artifacts', encodePath(name))
    );
    return inline ? `${url}${url.includes('?') ? '&' : '?'}inline=1` : url;
  }

  notebookParameters(path: string): Promise<INotebookParameters> {
    return this.request<INotebookParameters>(
      `notebooks/parameters${queryString({ path })}`
    );
  }

  kernels(): Promise<IKernels> {
    return this.request<IKernels>('kernels');
  }

  /**
   * Ask the server (croniter, the scheduler's own parser) whether a cron
   * expression is valid and when it fires next in `timezone`.
   */
  cronPreview(
    expression: string,
    timezone?: string,
    count?: number
  ): Promise<ICronPreview> {
    const search = queryString({
      expression,
      timezone: timezone || undefined,
      count
    });
    return this.request<ICronPreview>(`cron/preview${search}`);
  }

  /** URL of the server-sent event stream. */
  eventsUrl(): string {
    return this.authenticatedUrl('events');
  }

  private _runPath(id: string, ...rest: string[]): string {
    return this.itemPath('runs', id, ...rest);
  }

  private _runAction(id: string, action: string): Promise<IRunSummary> {
    return this.send<IRunSummary>('POST', this._runPath(id, action));
  }
}

export namespace MLOpsClient {
  export interface IOptions {
    serverSettings?: ServerConnection.ISettings;
  }
}
