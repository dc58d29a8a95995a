/**
 * Typed client of the jupyter-mlops REST API (`<baseUrl>/mlops/api/`).
 *
 * The server side is `jupyter_mlops/server/handlers.py`; its contract is
 * described in `jupyter_mlops/server/openapi.yaml`. This module only talks
 * HTTP: state, live updates and caching live in `model.ts`.
 */
import { URLExt } from '@jupyterlab/coreutils';
import { ServerConnection } from '@jupyterlab/services';

/**
 * Base path of the jupyter-mlops REST API on the Jupyter server.
 */
export const API_NAMESPACE = 'mlops/api';

/**
 * Error raised when a call to the jupyter-mlops server API fails.
 *
 * `status` is the HTTP status code (0 when the request never reached the
 * server), `message` the `message` field of the server's JSON error body when
 * there is one, `problems` the per-parameter problems of a 400 on invalid
 * parameters, and `body` the parsed body itself.
 */
export class MLOpsAPIError extends Error {
  readonly status: number;
  readonly body: unknown;
  readonly problems: Record<string, string>;

  constructor(message: string, status: number, body?: unknown) {
    super(message);
    this.name = 'MLOpsAPIError';
    this.status = status;
    this.body = body;
    const problems =
      body !== null && typeof body === 'object'
        ? (body as { problems?: unknown }).problems
        : undefined;
    this.problems =
      problems !== null && typeof problems === 'object'
        ? { ...(problems as Record<string, string>) }
        : {};
    Object.setPrototypeOf(this, MLOpsAPIError.prototype);
  }
}

/**
 * Call the jupyter-mlops server API.
 *
 * @param endPoint path below `/mlops/api/`, e.g. `health` or `runs?limit=10`
 * @param init     fetch options (method, body, headers...)
 * @param settings server connection settings (default: the page's)
 * @returns the parsed JSON body, or `undefined` for an empty body (e.g. 204)
 * @throws {MLOpsAPIError} on a network error or a non-2xx response
 */
export async function requestAPI<T>(
  endPoint = '',
  init: RequestInit = {},
  settings: ServerConnection.ISettings = ServerConnection.makeSettings()
): Promise<T> {
  const requestUrl = URLExt.join(settings.baseUrl, API_NAMESPACE, endPoint);

  let response: Response;
  try {
    response = await ServerConnection.makeRequest(requestUrl, init, settings);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new MLOpsAPIError(
      `Network error calling ${requestUrl}: ${reason}`,
      0
    );
  }

  const text = await response.text();
  let data: unknown = undefined;
  if (text.length > 0) {
    try {
      data = JSON.parse(text);
    } catch {
      data = text;
    }
  }

  if (!response.ok) {
    let message = `${response.status} ${response.statusText}`.trim();
    if (
      data !== null &&
      typeof data === 'object' &&
      typeof (data as { message?: unknown }).message === 'string' &&
      (data as { message: string }).message.length > 0
    ) {
      message = (data as { message: string }).message;
    } else if (
      typeof data === 'string' &&
      data.length > 0 &&
      data.length < 500
    ) {
      message = data;
    }
    throw new MLOpsAPIError(message, response.status, data);
  }

  return data as T;
}

// -- types -----------------------------------------------------------------------

/**
 * Status of a run. `queued`, `starting` and `running` are active; the others
 * are terminal.
 */
export type RunStatus =
  | 'queued'
  | 'starting'
  | 'running'
  | 'succeeded'
  | 'failed'
  | 'cancelled'
  | 'timed_out'
  | 'lost';

/** Every run status, in lifecycle order. */
/**
 * `GET runs/{id}/diff/{other}`: what changed in the code between two snapshots.
 */
export interface ISnapshotDiff {
  base: string;
  other: string;
  base_commit: string;
  other_commit: string;
  same_repository: boolean;
  /** Same tree in both snapshots; null when they live in different repositories. */
  same_code: boolean | null;
  files: Array<{ status: string; path: string }>;
  /** nbdime diff of the notebooks' sources; '' when identical. */
  notebook_diff: string | null;
  error?: string;
}

export const RUN_STATUSES: ReadonlyArray<RunStatus> = [
  'queued',
  'starting',
  'running',
  'succeeded',
  'failed',
  'cancelled',
  'timed_out',
  'lost'
];

/** Whether a run in this status may still change. */
export function isActive(status: RunStatus): boolean {
  return status === 'queued' || status === 'starting' || status === 'running';
}

/** A JSON value. */
export type JSONValue =
  null | boolean | number | string | JSONValue[] | { [key: string]: JSONValue };

/** A JSON object. */
export type JSONObject = { [key: string]: JSONValue };

/** Shape of `GET health`. */
export interface IHealth {
  status: string;
  version: string;
  runs: number;
}

/** One row of the run list (also the data of the `run` event). */
export interface IRunSummary {
  id: string;
  status: RunStatus;
  status_reason: string | null;
  /** Notebook path relative to the server root. */
  notebook: string;
  kernel: string;
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
  duration_s: number | null;
  cells_done: number;
  cells_total: number | null;
  current_cell: number | null;
  /** Values given for this run (overrides of the notebook's defaults). */
  parameters: JSONObject;
  tags: string[];
  seed: number;
  gpus: number;
  /** Snapshot commit sha. */
  commit: string;
  reproduced_from: string | null;
  /** `ui`, `cli`, `schedule`, `reproduce`, ... */
  source: string;
  /**
   * Latest values of the metric keys asked for with `metrics` in
   * `GET runs` (absent otherwise, and in event-stream summaries).
   */
  metrics?: Record<string, number | null>;
}

/** One status change or cell progress event of a run. */
export interface IRunEvent {
  at: string;
  kind: 'status' | 'cell';
  status: string | null;
  cell_index: number | null;
  duration_s: number | null;
  message: string | null;
}

/** A file a run produced. */
export interface IArtifact {
  name: string;
  /** `notebook`, `html`, `model`, `file`, `log` */
  kind: string;
  size: number;
  sha256: string;
  content_type: string;
  created_at: string;
  meta: JSONObject | null;
}

/** The git snapshot a run executed. */
export interface ISnapshot {
  commit: string;
  ref: string;
  git_dir: string;
  worktree: string;
  notebook: string;
  branch: string | null;
  base_commit: string | null;
  dirty: boolean;
  private_repo: boolean;
}

/** Where the run's runner process lives. */
export interface IRunner {
  pid: number | null;
  host: string | null;
  kernel_pid: number | null;
  heartbeat_at: string | null;
  run_dir: string | null;
}

/** The error that ended a failed run. */
export interface IRunError {
  cell_index: number | null;
  ename: string;
  evalue: string | null;
  traceback: string | null;
}

/** Everything about one run (`GET runs/{id}`). */
export interface IRunDetail extends IRunSummary {
  parameter_types: Record<string, string>;
  timeout_s: number | null;
  cuda_visible_devices?: string | null;
  snapshot: ISnapshot;
  runner: IRunner;
  error: IRunError | null;
  status_history: IRunEvent[];
  cells: IRunEvent[];
  artifacts: IArtifact[];
  environment: JSONObject | null;
  /** Latest value of each logged metric (null for NaN or infinite). */
  metrics: Record<string, number | null>;
}

/** One page of `GET runs`. */
export interface IRunPage {
  runs: IRunSummary[];
  next_cursor: string | null;
}

/** Query of `GET runs`. */
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
}

/** One metric key of a run (`GET runs/{id}/metrics`). */
export interface IMetricKey {
  key: string;
  /** Value at the highest step (null for NaN or infinite). */
  latest: number | null;
  /** The highest step logged. */
  step: number;
  at: string | null;
  total_points: number;
  first_step: number;
  last_step: number;
  min: number | null;
  max: number | null;
}

/** `GET runs/{id}/metrics`. */
export interface IRunMetrics {
  run_id: string;
  status: RunStatus;
  keys: IMetricKey[];
}

/** A `[step, value]` point; value null for NaN or infinite. */
export type MetricPoint = [number, number | null];

/** One metric series of one run, in step order, maybe downsampled. */
export interface IMetricSeries {
  run_id: string;
  key: string;
  total_points: number;
  /** Whether `points` is a min/max-per-bucket selection of the series. */
  downsampled: boolean;
  points: MetricPoint[];
}

/** `GET metrics?run=&key=`: one series per (run, key). */
export interface IMetricSeriesSet {
  max_points: number;
  series: IMetricSeries[];
}

/** Most runs and keys one `GET metrics` request may name. */
export const MAX_SERIES_RUNS = 50;
export const MAX_SERIES_KEYS = 20;

/** Type of a notebook parameter as inferred by the server. */
export type ParameterType =
  | 'int'
  | 'float'
  | 'str'
  | 'bool'
  | 'list'
  | 'dict'
  | 'tuple'
  | 'NoneType'
  | 'any';

/** One parameter of a notebook's `parameters` cell. */
export interface IParameter {
  name: string;
  type_name: ParameterType;
  /** The literal default (null when it is an expression; see default_source). */
  default: JSONValue;
  /** The default as written in the notebook. */
  default_source: string;
  annotation: string | null;
  /** The trailing comment of the assignment. */
  help: string;
  nullable: boolean;
}

/** `GET notebooks/parameters?path=`. */
export interface INotebookParameters {
  path: string;
  parameters: IParameter[];
  /** The kernel named in the notebook's metadata. */
  kernel: string | null;
  has_parameters_cell: boolean;
}

/** An installed kernel. */
export interface IKernelInfo {
  name: string;
  display_name: string;
  language: string;
  /**
   * Whether the kernel's Python can use CUDA (probed with torch, cached); null
   * for kernels that are not Python or whose interpreter is unknown.
   */
  cuda: IKernelCuda | null;
}

/** What torch in a kernel's Python says about CUDA. */
export interface IKernelCuda {
  cuda: boolean;
  devices: Array<{
    index: number;
    name: string;
    /** bytes */
    total_memory: number;
    capability: string;
  }>;
  /** torch version; null when the kernel has no torch. */
  torch: string | null;
  cuda_version: string | null;
  cached?: boolean;
  /** Why the probe failed (then `cuda` is false). */
  error?: string;
}

/** A GPU of the server's machine. */
export interface IGPU {
  index: number;
  name: string;
  /** bytes */
  memory_total: number;
  uuid: string | null;
}

/** `GET kernels`. */
export interface IKernels {
  kernels: IKernelInfo[];
  default_kernel: string;
  gpus: IGPU[];
}

/** Body of `POST runs`. */
export interface ISubmitRequest {
  /** Path of the .ipynb relative to the server's root. */
  notebook: string;
  parameters?: JSONObject;
  kernel?: string | null;
  gpus?: number;
  /** Seconds before the run is stopped as timed_out. */
  timeout?: number | null;
  tags?: string[];
  seed?: number | null;
  /** Also commit the notebook to the current branch before running. */
  commit?: boolean;
  commit_message?: string | null;
}

/** Data of the `run_deleted` event. */
export interface IRunDeleted {
  id: string;
}

// -- client ----------------------------------------------------------------------

/**
 * The jupyter-mlops REST API, one method per endpoint.
 */
export class MLOpsClient {
  constructor(options: MLOpsClient.IOptions = {}) {
    this.serverSettings =
      options.serverSettings ?? ServerConnection.makeSettings();
  }

  /** Server connection settings used for every call. */
  readonly serverSettings: ServerConnection.ISettings;

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
    return this._request<IHealth>('health');
  }

  listRuns(query: IRunQuery = {}): Promise<IRunPage> {
    const params: string[] = [];
    const add = (key: string, value: string | number) =>
      params.push(`${key}=${encodeURIComponent(String(value))}`);
    if (query.limit !== undefined) {
      add('limit', query.limit);
    }
    if (query.cursor) {
      add('cursor', query.cursor);
    }
    for (const status of query.status ?? []) {
      add('status', status);
    }
    if (query.notebook) {
      add('notebook', query.notebook);
    }
    for (const tag of query.tag ?? []) {
      add('tag', tag);
    }
    for (const param of query.param ?? []) {
      add('param', param);
    }
    if (query.q) {
      add('q', query.q);
    }
    for (const key of query.metrics ?? []) {
      add('metrics', key);
    }
    const search = params.length ? `?${params.join('&')}` : '';
    return this._request<IRunPage>(`runs${search}`);
  }

  getRun(id: string): Promise<IRunDetail> {
    return this._request<IRunDetail>(`runs/${encodeURIComponent(id)}`);
  }

  submitRun(request: ISubmitRequest): Promise<IRunSummary> {
    return this._request<IRunSummary>('runs', {
      method: 'POST',
      body: JSON.stringify(request)
    });
  }

  cancelRun(id: string): Promise<IRunSummary> {
    return this._request<IRunSummary>(`runs/${encodeURIComponent(id)}/cancel`, {
      method: 'POST'
    });
  }

  /**
   * Code difference between two runs' snapshots.
   */
  diffRuns(baseId: string, otherId: string): Promise<ISnapshotDiff> {
    return this._request<ISnapshotDiff>(
      `runs/${encodeURIComponent(baseId)}/diff/${encodeURIComponent(otherId)}`
    );
  }

  reproduceRun(id: string): Promise<IRunSummary> {
    return this._request<IRunSummary>(
      `runs/${encodeURIComponent(id)}/reproduce`,
      { method: 'POST' }
    );
  }

  async deleteRun(id: string): Promise<void> {
    await this._request<void>(`runs/${encodeURIComponent(id)}`, {
      method: 'DELETE'
    });
  }

  /** The metric keys of a run, with latest values and series totals. */
  runMetrics(id: string): Promise<IRunMetrics> {
    return this._request<IRunMetrics>(`runs/${encodeURIComponent(id)}/metrics`);
  }

  /** One metric series of a run (the key may contain `/`). */
  metricSeries(
    id: string,
    key: string,
    maxPoints?: number
  ): Promise<IMetricSeries & { max_points: number }> {
    const encoded = key.split('/').map(encodeURIComponent).join('/');
    const search = maxPoints ? `?max_points=${maxPoints}` : '';
    return this._request<IMetricSeries & { max_points: number }>(
      `runs/${encodeURIComponent(id)}/metrics/${encoded}${search}`
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
    const params = [
      ...runIds.map(id => `run=${encodeURIComponent(id)}`),
      ...keys.map(key => `key=${encodeURIComponent(key)}`)
    ];
    if (maxPoints) {
      params.push(`max_points=${maxPoints}`);
    }
    return this._request<IMetricSeriesSet>(`metrics?${params.join('&')}`);
  }

  /** The executed notebook (nbformat v4 JSON). */
  executedNotebook(id: string): Promise<JSONObject> {
    return this._request<JSONObject>(`runs/${encodeURIComponent(id)}/notebook`);
  }

  /** URL of the executed notebook rendered as HTML (served sandboxed). */
  htmlUrl(id: string): string {
    return this.url('runs', encodeURIComponent(id), 'html');
  }

  /** URL to download an artifact (its name may contain `/`). */
  artifactUrl(id: string, name: string, inline = false): string {
    const encoded = name.split('/').map(encodeURIComponent).join('/');
    const url = this.authenticatedUrl(
      'runs',
      encodeURIComponent(id),
      'artifacts',
      encoded
    );
    return inline ? `${url}${url.includes('?') ? '&' : '?'}inline=1` : url;
  }

  notebookParameters(path: string): Promise<INotebookParameters> {
    return this._request<INotebookParameters>(
      `notebooks/parameters?path=${encodeURIComponent(path)}`
    );
  }

  kernels(): Promise<IKernels> {
    return this._request<IKernels>('kernels');
  }

  /** URL of the server-sent event stream. */
  eventsUrl(): string {
    return this.authenticatedUrl('events');
  }

  private _request<T>(endPoint: string, init: RequestInit = {}): Promise<T> {
    return requestAPI<T>(endPoint, init, this.serverSettings);
  }
}

export namespace MLOpsClient {
  export interface IOptions {
    serverSettings?: ServerConnection.ISettings;
  }
}
