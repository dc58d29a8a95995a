/**
 * The server-sent event stream of run changes (`GET events`): `run` events
 * carry a run summary, `run_deleted` events the id of a deleted run, `output`
 * events that a run has new output (fetched from `GET runs/{id}/output`).
 *
 * The browser reconnects an `EventSource` by itself after a network error;
 * after an HTTP error it gives up, and then this class tries again itself
 * {@link STREAM_RETRY_MS} later. Its owner learns when the stream is up and
 * down (to poll meanwhile).
 */
import { IDisposable } from '@lumino/disposable';
import { Throttler } from '@lumino/polling';

import type { IRunDeleted, IRunOutputNotice, IRunSummary } from './api';
import { disposePoll } from './polling';

/** Wait before opening the stream again after the browser gave up on it. */
export const STREAM_RETRY_MS = 30000;

/** The data of an event, or null when it is not JSON. */
function parseData<T>(event: Event): T | null {
  try {
    return JSON.parse((event as MessageEvent).data as string) as T;
  } catch {
    return null;
  }
}

export class RunStream implements IDisposable {
  constructor(options: RunStream.IOptions) {
    this._options = options;
    this._retry = new Throttler(() => this.connect(), {
      limit: STREAM_RETRY_MS,
      edge: 'trailing'
    });
  }

  get isDisposed(): boolean {
    return this._isDisposed;
  }

  /**
   * Open the stream unless it is open; false when the browser has no
   * `EventSource` or refuses to open one (the owner then polls).
   */
  connect(): boolean {
    if (this._isDisposed) {
      return false;
    }
    if (this._source) {
      return true;
    }
    if (typeof EventSource === 'undefined') {
      return false;
    }
    let source: EventSource;
    try {
      source = new EventSource(this._options.url(), { withCredentials: true });
    } catch {
      return false;
    }
    this._source = source;
    const options = this._options;
    let wasDown = false;
    source.addEventListener('open', () => {
      options.onOpen(wasDown);
      wasDown = false;
    });
    source.addEventListener('run', event => {
      const data = parseData<IRunSummary>(event);
      if (data && typeof data.id === 'string') {
        options.onRun(data);
      }
    });
    source.addEventListener('run_deleted', event => {
      const data = parseData<IRunDeleted>(event);
      if (data && typeof data.id === 'string') {
        options.onDeleted(data.id);
      }
    });
    source.addEventListener('output', event => {
      const data = parseData<IRunOutputNotice>(event);
      if (data && typeof data.run_id === 'string') {
        options.onOutput?.(data);
      }
    });
    source.addEventListener('error', () => {
      wasDown = true;
      options.onDown();
      if (source.readyState === EventSource.CLOSED) {
        // The browser gave up (an HTTP error): try again later ourselves.
        source.close();
        this._source = null;
        if (!this._isDisposed) {
          void this._retry.invoke();
        }
      }
    });
    return true;
  }

  dispose(): void {
    if (this._isDisposed) {
      return;
    }
    this._isDisposed = true;
    disposePoll(this._retry);
    this._source?.close();
    this._source = null;
  }

  private _options: RunStream.IOptions;
  private _source: EventSource | null = null;
  private _retry: Throttler;
  private _isDisposed = false;
}

export namespace RunStream {
  export interface IOptions {
    /** The stream's URL (asked at each connection: the token may change). */
    url: () => string;
    /** The stream is open; `reconnected` after it was down. */
    onOpen: (reconnected: boolean) => void;
    onRun: (run: IRunSummary) => void;
    onDeleted: (id: string) => void;
    /** A run has new output (up to `seq`). */
    onOutput?: (notice: IRunOutputNotice) => void;
    /** The stream is down (the browser may reconnect it by itself). */
    onDown: () => void;
  }
}
