/**
 * What the compare view loads for each other run against the first one (the
 * code difference, the inputs and their drift): one request per other run,
 * its answer or its error, dropped when the runs change meanwhile.
 */
import * as React from 'react';

import type { IRunDetail } from './api';
import { errorMessage } from './request';

/** One other run's answer, or why there is none. */
export interface IAgainstFirst<T> {
  other: string;
  data: T | null;
  error: string | null;
}

/** `load(first, other)` for each other run, as a React state. */
export function useAgainstFirst<T>(
  runs: IRunDetail[],
  load: (baseId: string, otherId: string) => Promise<T>
): Array<IAgainstFirst<T>> {
  const [results, setResults] = React.useState<Array<IAgainstFirst<T>>>([]);
  const key = runs.map(r => r.id).join(',');
  React.useEffect(() => {
    let alive = true;
    const base = runs[0];
    void Promise.all(
      runs.slice(1).map(other =>
        load(base.id, other.id).then(
          data => ({ other: other.id, data, error: null }),
          (reason: unknown) => ({
            other: other.id,
            data: null,
            error: errorMessage(reason)
          })
        )
      )
    ).then(found => {
      if (alive) {
        setResults(found);
      }
    });
    return () => {
      alive = false;
    };
  }, [key]);
  return results;
}
