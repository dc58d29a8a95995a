/**
 * The pipeline runs, newest first (polled), each opening its DAG view.
 */
import { TranslationBundle } from '@jupyterlab/translation';
import { ReactWidget } from '@jupyterlab/ui-components';
import { Poll } from '@lumino/polling';
import * as React from 'react';

import { intervalPoll } from '../polling';
import { errorMessage } from '../request';
import type { IPipelineRunSummary, PipelinesClient } from './api';
import { stepProgress } from './pipelineRunsSection';

const POLL_MS = 3000;

export class PipelineListWidget extends ReactWidget {
  constructor(options: PipelineListWidget.IOptions) {
    super();
    this._client = options.client;
    this._trans = options.trans;
    this._onOpen = options.onOpen;
    this.addClass('jp-mlops-pipeline');
    this._poll = intervalPoll(() => this._refresh(), POLL_MS);
    void this._refresh().then(() => void this._poll.start());
  }

  dispose(): void {
    this._poll.dispose();
    super.dispose();
  }

  private async _refresh(): Promise<void> {
    try {
      this._rows = await this._client.list();
      this._error = null;
    } catch (error) {
      this._error = errorMessage(error);
    }
    this.update();
  }

  render(): JSX.Element {
    const trans = this._trans;
    return (
      <div className="jp-mlops-pipeline-list">
        <h2>{trans.__('Pipeline runs')}</h2>
        {this._error && <p className="jp-mlops-error">{this._error}</p>}
        {this._rows.length === 0 ? (
          <p>
            {trans.__(
              'No pipeline runs yet: right-click a pipeline.yaml → Run Pipeline…'
            )}
          </p>
        ) : (
          <table>
            <tbody>
              {this._rows.map(row => (
                <tr key={row.id} data-status={row.status}>
                  <td>
                    <button
                      className="jp-mlops-link"
                      onClick={() => this._onOpen(row.id)}
                    >
                      {row.id}
                    </button>
                  </td>
                  <td
                    className={`jp-mlops-pipeline-status jp-mlops-dag-${row.status}`}
                  >
                    {row.status}
                  </td>
                  <td className="jp-mlops-pipeline-progress">
                    {stepProgress(row, trans)}
                  </td>
                  <td>{row.name}</td>
                  <td>{row.pipeline_path}</td>
                  <td>{row.created_at ?? ''}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </div>
    );
  }

  private _client: PipelinesClient;
  private _trans: TranslationBundle;
  private _onOpen: (id: string) => void;
  private _poll: Poll;
  private _rows: IPipelineRunSummary[] = [];
  private _error: string | null = null;
}

export namespace PipelineListWidget {
  export interface IOptions {
    client: PipelinesClient;
    trans: TranslationBundle;
    onOpen: (id: string) => void;
  }
}
