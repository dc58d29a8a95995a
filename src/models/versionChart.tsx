/**
 * A chosen metric across a model's versions: one bar per version (its run's
 * latest value), so a release's trend is visible at a glance.
 */
import { TranslationBundle } from '@jupyterlab/translation';
import * as React from 'react';

import { formatMetric } from '../format';
import type { IModelVersion } from './api';
import { barHeights } from './logic';

const HEIGHT = 60;
const BAR = 18;

export function VersionChart(props: {
  versions: IModelVersion[];
  keys: string[];
  trans: TranslationBundle;
}): JSX.Element | null {
  const { versions, keys, trans } = props;
  const [key, setKey] = React.useState(keys[0] ?? '');
  if (!keys.length) {
    return null;
  }
  const values = versions.map(v => v.metrics[key] ?? null);
  const heights = barHeights(values, HEIGHT);
  return (
    <div className="jp-mlops-version-chart" data-key={key}>
      <label>
        {trans.__('Metric')}{' '}
        <select
          className="jp-mod-styled"
          value={key}
          onChange={event => setKey(event.target.value)}
        >
          {keys.map(k => (
            <option key={k} value={k}>
              {k}
            </option>
          ))}
        </select>
      </label>
      <svg
        width={versions.length * (BAR + 6)}
        height={HEIGHT + 14}
        role="img"
        aria-label={trans.__('%1 by version', key)}
      >
        {versions.map((v, i) => (
          <g key={v.version}>
            <rect
              x={i * (BAR + 6)}
              y={HEIGHT - heights[i]}
              width={BAR}
              height={heights[i]}
              fill="var(--jp-brand-color1)"
            >
              <title>{`v${v.version}: ${formatMetric(values[i])}`}</title>
            </rect>
            <text
              x={i * (BAR + 6) + BAR / 2}
              y={HEIGHT + 12}
              fontSize="10"
              textAnchor="middle"
              fill="var(--jp-ui-font-color1)"
            >
              {v.version}
            </text>
          </g>
        ))}
      </svg>
    </div>
  );
}
