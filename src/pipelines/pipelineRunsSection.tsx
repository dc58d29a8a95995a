/**
 * The newest pipeline runs in the runs side panel: name, status, steps done
 * of total and how many came from the cache; a row opens the run's live DAG
 * view. Shown only once there is a pipeline run; polled while shown. Its
 * rows have classes of their own (not the run rows'), so the run list's rows
 * are counted alone.
 */
import { TranslationBundle } from '@jupyterlab/translation';
import * as React from 'react';

import type { RunStatus } from '../api';
import { ErrorBanner, Section, StatusBadge } from '../components';
import { useInterval } from '../polling';
import { errorMessage } from '../request';
import type { IPipelineRunSummary, PipelinesClient } from './api';

/** Rows the side panel shows (the Pipeline Runs view lists them all). */
export const PANEL_PIPELINE_ROWS = 5;
const POLL_MS = 5000;

/** "3/4 steps · 1 cached" of a pipeline run. */
export function stepProgress(
  run: Pick<IPipelineRunSummary, 'steps_done' | 'steps_total' | 'steps_cached'>,
  trans: TranslationBundle
): string {
  const done = trans.__('%1/%2 steps', run.steps_done, run.steps_total);
  return run.steps_cached
    ? `${done} · ${trans.__('%1 cached', run.steps_cached)}`
    : done;
}

export interface IPipelineRunsSectionProps {
  client: PipelinesClient;
  trans: TranslationBundle;
  onOpen: (id: string) => void;
  onShowAll: () => void;
}

export function PipelineRunsSection(
  props: IPipelineRunsSectionProps
): JSX.Element | null {
  const { client, trans } = props;
  const [rows, setRows] = React.useState<IPipelineRunSummary[]>([]);
  const [error, setError] = React.useState<string | null>(null);
  const refresh = React.useCallback(() => {
    client.list().then(
      list => {
        setRows(list);
        setError(null);
      },
      (failure: unknown) => setError(errorMessage(failure))
    );
  }, [client]);
  React.useEffect(refresh, [refresh]);
  useInterval(true, POLL_MS, refresh);
  if (!rows.length && !error) {
    return null;
  }
  return (
    <Section
      title={trans.__('Pipeline runs')}
      className="jp-mlops-panel-pipelines"
      head={
        <button
          type="button"
          className="jp-mlops-linkbutton"
          onClick={props.onShowAll}
        >
          {trans.__('All pipeline runs')}
        </button>
      }
    >
      <ErrorBanner error={error} />
      <ul
        className="jp-mlops-pipeline-runlist"
        aria-label={trans.__('Pipeline runs')}
      >
        {rows.slice(0, PANEL_PIPELINE_ROWS).map(run => (
          <li
            key={run.id}
            className="jp-mlops-pipeline-run"
            data-pipeline-id={run.id}
            data-status={run.status}
          >
            <button
              type="button"
              className="jp-mlops-linkbutton jp-mlops-pipeline-open"
              title={trans.__('Open pipeline run %1', run.id)}
              onClick={() => props.onOpen(run.id)}
            >
              {run.name}
            </button>{' '}
            <StatusBadge
              status={run.status as RunStatus}
              reason={run.status_reason}
              trans={trans}
            />{' '}
            <span className="jp-mlops-pipeline-progress">
              {stepProgress(run, trans)}
            </span>
          </li>
        ))}
      </ul>
    </Section>
  );
}

/** The section as an element for the runs panel (built in `plugin.ts`). */
export function pipelineRunsSection(
  props: IPipelineRunsSectionProps
): JSX.Element {
  return <PipelineRunsSection {...props} />;
}
