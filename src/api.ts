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
 * there is one, and `body` the parsed body itself.
 */
export class MLOpsAPIError extends Error {
  readonly status: number;
  readonly body: unknown;

  constructor(message: string, status: number, body?: unknown) {
    super(message);
    this.name = 'MLOpsAPIError';
    this.status = status;
    this.body = body;
    Object.setPrototypeOf(this, MLOpsAPIError.prototype);
  }
}

/**
 * Call the jupyter-mlops server API.
 *
 * @param endPoint path below `/mlops/api/`, e.g. `health` or `runs?limit=10`
 * @param init     fetch options (method, body, headers...)
 * @returns the parsed JSON body, or `undefined` for an empty body (e.g. 204)
 * @throws {MLOpsAPIError} on a network error or a non-2xx response
 */
export async function requestAPI<T>(
  endPoint = '',
  init: RequestInit = {}
): Promise<T> {
  const settings = ServerConnection.makeSettings();
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
