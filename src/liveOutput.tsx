/**
 * The run detail's live output: what each cell printed, as it happens (the
 * running cell's stdout and stderr, the results and errors of finished ones),
 * kept scrolled to the newest line unless the reader scrolled up.
 */
import { TranslationBundle } from '@jupyterlab/translation';
import * as React from 'react';

import type { IRunDetail } from './api';
import { ErrorBanner, Section } from './components';
import { stripAnsi } from './format';
import type { RunsModel } from './model';
import { groupByCell, spansOf } from './outputLog';
import { RunOutputModel } from './runOutput';
import { isActive } from './status';

/** Pixels from the bottom within which the view follows new output. */
const FOLLOW_SLACK_PX = 24;

/** The output model of a run while the view shows it, redrawn as it changes. */
function useRunOutput(model: RunsModel, runId: string): RunOutputModel | null {
  const [output, setOutput] = React.useState<RunOutputModel | null>(null);
  const [, redraw] = React.useReducer((n: number) => n + 1, 0);
  React.useEffect(() => {
    const created = new RunOutputModel({ client: model.client, model, runId });
    created.changed.connect(() => redraw());
    setOutput(created);
    return () => created.dispose();
  }, [model, runId]);
  return output;
}

export function LiveOutput(props: {
  run: IRunDetail;
  model: RunsModel;
  trans: TranslationBundle;
}): JSX.Element {
  const { run, trans } = props;
  const output = useRunOutput(props.model, run.id);
  const body = React.useRef<HTMLDivElement>(null);
  const following = React.useRef(true);
  const log = output?.log;
  React.useLayoutEffect(() => {
    const node = body.current;
    if (node && following.current) {
      node.scrollTop = node.scrollHeight;
    }
  }, [log]);
  const onScroll = () => {
    const node = body.current;
    if (node) {
      following.current =
        node.scrollHeight - node.scrollTop - node.clientHeight <
        FOLLOW_SLACK_PX;
    }
  };
  const groups = log ? groupByCell(log.chunks) : [];
  const active = isActive(run.status);
  return (
    <Section
      title={trans.__('Output')}
      className="jp-mlops-live-output"
      head={
        output?.fullOutput ? (
          <span className="jp-mlops-hint">
            {trans.__('Full text: artifact %1', output.fullOutput)}
          </span>
        ) : undefined
      }
    >
      <ErrorBanner error={output?.error} />
      {log?.dropped ? (
        <p className="jp-mlops-hint">
          {trans.__('%1 earlier pieces of output are not shown.', log.dropped)}
        </p>
      ) : null}
      {groups.length ? (
        <div
          ref={body}
          className="jp-mlops-live-output-body"
          onScroll={onScroll}
          data-complete={output?.complete ? 'true' : 'false'}
          aria-live="polite"
        >
          {groups.map(group => (
            <div
              key={group.chunks[0].seq}
              className="jp-mlops-output-cell"
              data-cell={group.cell ?? ''}
            >
              {group.cell !== null && (
                <div className="jp-mlops-output-cell-label">
                  {trans.__('Cell %1', group.cell)}
                </div>
              )}
              <pre>
                {spansOf(group.chunks).map(span => (
                  <span
                    key={span.key}
                    className={`jp-mlops-output-${span.stream}`}
                  >
                    {stripAnsi(span.text)}
                  </span>
                ))}
              </pre>
            </div>
          ))}
        </div>
      ) : (
        <p className="jp-mlops-hint">
          {!output?.loaded
            ? trans.__('Loading…')
            : active
              ? trans.__('No output yet: what the cells print appears here.')
              : trans.__('The cells printed nothing.')}
        </p>
      )}
    </Section>
  );
}
