/**
 * The facts of one run as the run detail shows them: key-value tables, the
 * status timeline and the artifacts (with what a model's metadata says).
 */
import { TranslationBundle } from '@jupyterlab/translation';
import * as React from 'react';

import type {
  IArtifact,
  IRunEvent,
  JSONValue,
  MLOpsClient,
  RunStatus
} from './api';
import { TableHead } from './components';
import { basename, formatBytes, formatTime, statusLabel } from './format';
import { RegisterModelButton } from './models/registerButton';

export function KeyValues(props: {
  rows: Array<[string, React.ReactNode]>;
  className?: string;
}): JSX.Element {
  return (
    <table className={`jp-mlops-kv ${props.className ?? ''}`}>
      <tbody>
        {props.rows.map(([key, value]) => (
          <tr key={key}>
            <th scope="row">{key}</th>
            <td>{value}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

export function Timeline(props: {
  events: IRunEvent[];
  trans: TranslationBundle;
}): JSX.Element {
  const { trans } = props;
  return (
    <ol className="jp-mlops-timeline">
      {props.events.map((event, i) => (
        <li key={i} data-status={event.status ?? undefined}>
          <time dateTime={event.at}>{formatTime(event.at)}</time>
          <span
            className={`jp-mlops-timeline-status jp-mlops-status-text-${event.status}`}
          >
            {event.status ? statusLabel(event.status as RunStatus, trans) : ''}
          </span>
          {event.message && (
            <span className="jp-mlops-timeline-message">{event.message}</span>
          )}
        </li>
      ))}
    </ol>
  );
}

/** `12,345` */
function formatCount(value: JSONValue | undefined): string | null {
  return typeof value === 'number' ? value.toLocaleString('en-US') : null;
}

/**
 * What an artifact's `meta` says, shortly: for a model (`log_model`) the
 * architecture, parameter counts, dtypes and torch version; the rest on hover.
 */
export function ArtifactMeta(props: {
  artifact: IArtifact;
  trans: TranslationBundle;
}): JSX.Element | null {
  const { artifact, trans } = props;
  const meta = artifact.meta ?? {};
  const hidden = new Set(['sha256']);
  const title = Object.entries(meta)
    .filter(([k]) => !hidden.has(k))
    .map(([k, v]) => `${k}: ${typeof v === 'string' ? v : JSON.stringify(v)}`)
    .join('\n');
  if (artifact.kind !== 'model') {
    return title ? (
      <span className="jp-mlops-artifact-meta" title={title}>
        {artifact.content_type}
      </span>
    ) : (
      <span className="jp-mlops-artifact-meta">{artifact.content_type}</span>
    );
  }
  const architecture =
    typeof meta.architecture === 'string' ? meta.architecture : null;
  const qualname =
    typeof meta.qualname === 'string'
      ? meta.qualname
      : architecture?.split('.').pop();
  const params = formatCount(meta.parameters);
  const trainable =
    meta.trainable_parameters !== meta.parameters
      ? formatCount(meta.trainable_parameters)
      : null;
  const dtypes = Array.isArray(meta.dtypes) ? meta.dtypes.join(', ') : null;
  const torch =
    typeof meta.torch_version === 'string' ? meta.torch_version : null;
  return (
    <span
      className="jp-mlops-artifact-meta jp-mlops-model-meta"
      title={title}
      data-architecture={architecture ?? undefined}
    >
      {qualname && (
        <code className="jp-mlops-model-arch" title={architecture ?? ''}>
          {qualname}
        </code>
      )}
      {params && (
        <span className="jp-mlops-model-params">
          {trans.__('%1 parameters', params)}
          {trainable ? ` (${trans.__('%1 trainable', trainable)})` : ''}
        </span>
      )}
      {dtypes && <span>{dtypes}</span>}
      {torch && <span>{trans.__('torch %1', torch)}</span>}
    </span>
  );
}

export function Artifacts(props: {
  runId: string;
  artifacts: IArtifact[];
  client: MLOpsClient;
  trans: TranslationBundle;
}): JSX.Element {
  const { trans } = props;
  if (!props.artifacts.length) {
    return <p className="jp-mlops-hint">{trans.__('No artifacts yet.')}</p>;
  }
  return (
    <table className="jp-mlops-table jp-mlops-artifacts">
      <TableHead
        labels={[
          trans.__('Name'),
          trans.__('Kind'),
          trans.__('Size'),
          trans.__('Details'),
          trans.__('Created')
        ]}
      />
      <tbody>
        {props.artifacts.map(a => (
          <tr key={a.name}>
            <td>
              <a
                href={props.client.artifactUrl(props.runId, a.name)}
                download={basename(a.name)}
                title={`sha256 ${a.sha256}`}
              >
                {a.name}
              </a>
            </td>
            <td>{a.kind}</td>
            <td>{formatBytes(a.size)}</td>
            <td>
              <ArtifactMeta artifact={a} trans={trans} />
              {a.kind === 'model' && (
                <RegisterModelButton
                  runId={props.runId}
                  artifact={a.name}
                  client={props.client}
                  trans={trans}
                />
              )}
            </td>
            <td>{formatTime(a.created_at)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
