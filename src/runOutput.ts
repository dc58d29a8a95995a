/**
 * The live output of one run for its detail: loaded from a cursor
 * (`GET runs/{id}/output?after=`) when the view opens, when the event stream
 * says the run has new output, when the run changes (its last output comes
 * before its terminal status) and, while the stream is down and the run is
 * active, every {@link OUTPUT_POLL_MS}.
 */
import { Poll } from '@lumino/polling';

import type { MLOpsClient } from './api';
import type { IRunChange, RunsModel } from './model';
import { ModelBase, SerialTask } from './modelBase';
import { appendChunks, EMPTY_LOG, IOutputLog } from './outputLog';
import { disposePoll, intervalPoll, isStopped, startLater } from './polling';
import { errorMessage } from './request';
import { isActive } from './status';

/** Milliseconds between two loads while the event stream is down. */
export const OUTPUT_POLL_MS = 3000;

/** Most chunks the server returns at once (a full page: ask again). */
const OUTPUT_PAGE_CHUNKS = 1000;

export class RunOutputModel extends ModelBase {
  constructor(options: {
    client: MLOpsClient;
    model: RunsModel;
    runId: string;
  }) {
    super();
    this._client = options.client;
    this._model = options.model;
    this.runId = options.runId;
    this._task = new SerialTask(() => this._load());
    this._poll = intervalPoll(() => this.refresh(), OUTPUT_POLL_MS);
    this._model.outputChanged.connect((_, notice) => {
      if (notice.run_id === this.runId && notice.seq > this._log.last) {
        void this.refresh();
      }
    }, this);
    this._model.runChanged.connect(this._onRunChanged, this);
    void this.refresh();
  }

  readonly runId: string;

  get log(): IOutputLog {
    return this._log;
  }

  /** Whether the run ended and all of its output is here. */
  get complete(): boolean {
    return this._complete;
  }

  /** The artifact with the full output (once the run ended). */
  get fullOutput(): string | null {
    return this._fullOutput;
  }

  /** Load what is new (one load at a time; calls meanwhile make one more). */
  refresh(): Promise<void> {
    if (this.isDisposed || this._complete) {
      return Promise.resolve();
    }
    return this._task.run();
  }

  protected onDisposed(): void {
    disposePoll(this._poll);
  }

  private _onRunChanged(_: RunsModel, change: IRunChange): void {
    if (change.id !== this.runId || !change.run) {
      return;
    }
    const polling = this._model.connection !== 'stream';
    if (polling && isActive(change.run.status) && isStopped(this._poll)) {
      void startLater(this._poll);
    } else if (
      (!polling || !isActive(change.run.status)) &&
      !isStopped(this._poll)
    ) {
      void this._poll.stop();
    }
    void this.refresh();
  }

  private async _load(): Promise<void> {
    try {
      for (;;) {
        const page = await this._client.runOutput(this.runId, this._log.last);
        if (this.isDisposed) {
          return;
        }
        this._log = appendChunks(this._log, page.chunks);
        this._complete = page.complete;
        this._fullOutput = page.full_output ?? null;
        this._error = null;
        this._loaded = true;
        this.emitChanged();
        if (page.chunks.length < OUTPUT_PAGE_CHUNKS || page.complete) {
          return;
        }
      }
    } catch (error) {
      if (!this.isDisposed) {
        this._error = errorMessage(error);
        this.emitChanged();
      }
    }
  }

  private _client: MLOpsClient;
  private _model: RunsModel;
  private _task: SerialTask;
  private _poll: Poll;
  private _log: IOutputLog = EMPTY_LOG;
  private _complete = false;
  private _fullOutput: string | null = null;
}
