/**
 * A pipeline run in the main area: its steps as a DAG with live status
 * (polled while the run is running), cached steps marked, each step opening
 * the detail of its run.
 */
import { TranslationBundle } from '@jupyterlab/translation';
import { ReactWidget } from '@jupyterlab/ui-components';
import { Poll } from '@lumino/polling';
import * as React from 'react';

import { intervalPoll } from '../polling';
import { errorMessage } from '../request';
import type { IPipelineRunDetail, IPipelineStep, PipelinesClient } from './api';
import { isPipelineActive, layoutDag } from './dag';

const BOX_W = 170;
const BOX_H = 46;
const GAP_X = 60;
const GAP_Y = 24;
const POLL_MS = 1000;

function StepBox(props: {
  step: IPipelineStep;
  x: number;
  y: number;
  trans: TranslationBundle;
  onOpen: (runId: string) => void;
}): JSX.Element {
  const { step, x, y, trans, onOpen } = props;
  const runId = step.run_id;
  const label = step.cached ? trans.__('cached') : step.status;
  return (
    <g
      className={`jp-mlops-dag-step jp-mlops-dag-${step.status}`}
      data-step={step.name}
      data-status={step.status}
      data-cached={step.cached ? 'true' : 'false'}
      transform={`translate(${x},${y})`}
      role={runId ? 'button' : undefined}
      tabIndex={runId ? 0 : undefined}
      onClick={() => runId && onOpen(runId)}
      onKeyDown={e => e.key === 'Enter' && runId && onOpen(runId)}
    >
      <title>
        {step.reason ?? (runId ? trans.__('Open run %1', runId) : step.name)}
      </title>
      <rect width={BOX_W} height={BOX_H} rx={6} />
      <text x={10} y={19} className="jp-mlops-dag-name">
        {step.name}
      </text>
      <text x={10} y={36} className="jp-mlops-dag-status">
        {label}
        {step.attempt > 1 ? ` · ${trans.__('attempt %1', step.attempt)}` : ''}
      </text>
    </g>
  );
}

export function PipelineDag(props: {
  detail: IPipelineRunDetail;
  trans: TranslationBundle;
  onOpen: (runId: string) => void;
}): JSX.Element {
  const { detail, trans, onOpen } = props;
  const layout = layoutDag(detail.steps);
  const at = new Map(
    layout.nodes.map(n => [
      n.name,
      { x: n.column * (BOX_W + GAP_X), y: n.row * (BOX_H + GAP_Y) }
    ])
  );
  const width = Math.max(1, layout.columns) * (BOX_W + GAP_X) - GAP_X + 2;
  const height = Math.max(1, layout.rows) * (BOX_H + GAP_Y) - GAP_Y + 2;
  return (
    <svg
      className="jp-mlops-dag"
      width={width}
      height={height}
      viewBox={`-1 -1 ${width} ${height}`}
    >
      {layout.edges.map(e => {
        const a = at.get(e.from)!;
        const b = at.get(e.to)!;
        return (
          <line
            key={`${e.from}->${e.to}`}
            className="jp-mlops-dag-edge"
            x1={a.x + BOX_W}
            y1={a.y + BOX_H / 2}
            x2={b.x}
            y2={b.y + BOX_H / 2}
          />
        );
      })}
      {detail.steps.map(step => (
        <StepBox
          key={step.name}
          step={step}
          {...at.get(step.name)!}
          trans={trans}
          onOpen={onOpen}
        />
      ))}
    </svg>
  );
}

export class PipelineRunWidget extends ReactWidget {
  constructor(options: PipelineRunWidget.IOptions) {
    super();
    this.pipelineId = options.pipelineId;
    this._client = options.client;
    this._trans = options.trans;
    this._onOpen = options.onOpen;
    this.addClass('jp-mlops-pipeline');
    this._poll = intervalPoll(() => this._refresh(), POLL_MS);
    void this._refresh().then(() => void this._poll.start());
  }

  readonly pipelineId: string;

  dispose(): void {
    this._poll.dispose();
    super.dispose();
  }

  private async _refresh(): Promise<void> {
    try {
      this._detail = await this._client.get(this.pipelineId);
      this._error = null;
      if (!isPipelineActive(this._detail.status)) {
        void this._poll.stop();
      }
    } catch (error) {
      this._error = errorMessage(error);
    }
    this.update();
  }

  private async _resume(): Promise<void> {
    try {
      this._detail = await this._client.resume(this.pipelineId);
      void this._poll.start();
    } catch (error) {
      this._error = errorMessage(error);
    }
    this.update();
  }

  render(): JSX.Element {
    const trans = this._trans;
    const detail = this._detail;
    if (!detail) {
      return (
        <div className="jp-mlops-pipeline-loading">
          {this._error ?? trans.__('Loading…')}
        </div>
      );
    }
    const resumable = detail.steps.some(s =>
      ['failed', 'cancelled', 'skipped'].includes(s.status)
    );
    return (
      <div className="jp-mlops-pipeline-body" data-status={detail.status}>
        <h2>
          {detail.name}{' '}
          <span
            className={`jp-mlops-pipeline-status jp-mlops-dag-${detail.status}`}
          >
            {detail.status}
          </span>
        </h2>
        <p className="jp-mlops-pipeline-meta">
          {detail.pipeline_path} · {detail.id} ·{' '}
          {(detail.commit ?? '').slice(0, 12)}
        </p>
        {detail.status_reason && <p>{detail.status_reason}</p>}
        {this._error && <p className="jp-mlops-error">{this._error}</p>}
        <PipelineDag detail={detail} trans={trans} onOpen={this._onOpen} />
        {resumable && !isPipelineActive(detail.status) && (
          <button
            className="jp-mod-styled jp-mod-accept jp-mlops-pipeline-resume"
            onClick={() => void this._resume()}
          >
            {trans.__('Resume')}
          </button>
        )}
      </div>
    );
  }

  private _client: PipelinesClient;
  private _trans: TranslationBundle;
  private _onOpen: (runId: string) => void;
  private _poll: Poll;
  private _detail: IPipelineRunDetail | null = null;
  private _error: string | null = null;
}

export namespace PipelineRunWidget {
  export interface IOptions {
    pipelineId: string;
    client: PipelinesClient;
    trans: TranslationBundle;
    onOpen: (runId: string) => void;
  }
}
