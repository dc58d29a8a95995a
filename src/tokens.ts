/**
 * Tokens other JupyterLab extensions can require to use jupyter-mlops.
 */
import { Token } from '@lumino/coreutils';
import { ISignal } from '@lumino/signaling';

import type { IRunSummary, MLOpsClient } from './api';
import type { IRunChange } from './model';

/**
 * The run history of jupyter-mlops: the loaded runs with live updates, and
 * the REST client (provided by the `jupyter-mlops:plugin` plugin).
 */
export interface IMLOpsRuns {
  /** The REST client of the jupyter-mlops server extension. */
  readonly client: MLOpsClient;
  /** Emitted when the list, filters, selection or loading state change. */
  readonly changed: ISignal<IMLOpsRuns, void>;
  /** Emitted for every change of one run (event stream, polling or an action). */
  readonly runChanged: ISignal<IMLOpsRuns, IRunChange>;
  /** Runs loaded so far, newest first. */
  readonly runs: ReadonlyArray<IRunSummary>;
  /** A loaded run by id. */
  getRun(id: string): IRunSummary | undefined;
  /** Load the first page and start live updates (once; later calls do nothing). */
  ensureStarted(): void;
  /** Reload the loaded runs. */
  refresh(): Promise<void>;
  /** Record a run's new summary (e.g. one that another extension submitted). */
  upsert(run: IRunSummary): void;
}

/** The token of the jupyter-mlops run history. */
export const IMLOpsRuns = new Token<IMLOpsRuns>(
  'jupyter-mlops:IMLOpsRuns',
  'The jupyter-mlops run history: loaded runs with live updates, and the REST client.'
);
