/**
 * The one HTTP call of the frontend: `requestAPI` joins a path below
 * `<baseUrl>/mlops/api/`, sends it with the page's credentials and turns a
 * failure into an {@link MLOpsAPIError} carrying the server's message.
 *
 * Kept apart from the typed clients (`api.ts`, `schedulesApi.ts`) so that
 * every client, and every view that shows an error, shares one error type
 * and one way of reading it.
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

/** A readable message for any error of an API call (or anything thrown). */
export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** The server's `message` of an error body, else a short text body, else null. */
function bodyMessage(data: unknown): string | null {
  if (data !== null && typeof data === 'object') {
    const message = (data as { message?: unknown }).message;
    return typeof message === 'string' && message.length > 0 ? message : null;
  }
  return typeof data === 'string' && data.length > 0 && data.length < 500
    ? data
    : null;
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
    throw new MLOpsAPIError(
      `Network error calling ${requestUrl}: ${errorMessage(error)}`,
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
    const message =
      bodyMessage(data) ?? `${response.status} ${response.statusText}`.trim();
    throw new MLOpsAPIError(message, response.status, data);
  }

  return data as T;
}

/**
 * `?a=1&b=x&b=y` from query values: arrays repeat the key, `undefined`,
 * `null` and empty strings are left out ('' when nothing is left).
 */
export function queryString(
  query: Record<
    string,
    string | number | ReadonlyArray<string> | null | undefined
  >
): string {
  const params: string[] = [];
  for (const [key, value] of Object.entries(query)) {
    const values = Array.isArray(value) ? value : [value];
    for (const item of values) {
      if (item !== undefined && item !== null && item !== '') {
        params.push(`${key}=${encodeURIComponent(String(item))}`);
      }
    }
  }
  return params.length ? `?${params.join('&')}` : '';
}

/** A path of `/`-separated names (a metric key, an artifact name), each encoded. */
export function encodePath(path: string): string {
  return path.split('/').map(encodeURIComponent).join('/');
}

/**
 * What every typed client of ours has: the server settings, and a request
 * below `/mlops/api/` with them.
 */
export abstract class APIClient {
  constructor(serverSettings?: ServerConnection.ISettings) {
    this.serverSettings = serverSettings ?? ServerConnection.makeSettings();
  }

  /** Server connection settings used for every call. */
  readonly serverSettings: ServerConnection.ISettings;

  /** `kind/<id>/rest...`, the id encoded. */
  protected itemPath(kind: string, id: string, ...rest: string[]): string {
    return [kind, encodeURIComponent(id), ...rest].join('/');
  }

  protected request<T>(endPoint: string, init: RequestInit = {}): Promise<T> {
    return requestAPI<T>(endPoint, init, this.serverSettings);
  }

  /** A request with a JSON body (or none), e.g. `POST runs`. */
  protected send<T>(
    method: 'POST' | 'PATCH' | 'DELETE',
    endPoint: string,
    body?: unknown
  ): Promise<T> {
    const init: RequestInit = { method };
    if (body !== undefined) {
      init.body = JSON.stringify(body);
    }
    return this.request<T>(endPoint, init);
  }
}
