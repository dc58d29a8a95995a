/**
 * The rows of Compare's table, as a pure function: run facts, then the union
 * of the runs' parameters, then the union of their metrics, each row marked
 * when its values differ (a parameter left at the notebook's default counts
 * as its own value).
 */
import type { TranslationBundle } from '@jupyterlab/translation';

import type { IRunDetail, JSONValue } from './api';
import { formatMetric } from './format';
import { formatDuration, formatValue, runSeconds, shortSha } from './format';

/** One row of the comparison table. */
export interface ICompareRow {
  key: string;
  label: string;
  section: 'run' | 'parameters' | 'metrics';
  /** Display text per run ('' when the run has no value). */
  values: string[];
  /** Whether the run keeps the notebook's default (parameters only). */
  defaults: boolean[];
  differs: boolean;
}

/**
 * Whether `name` was given for the run rather than left at the notebook's
 * default. Runs without an `overridden` list recorded only what was given.
 */
export function isOverridden(
  run: Pick<IRunDetail, 'parameters' | 'overridden'>,
  name: string
): boolean {
  return run.overridden ? run.overridden.includes(name) : true;
}

/** The parameters given for the run (what a list row glances at). */
export function givenParameters(
  run: Pick<IRunDetail, 'parameters' | 'overridden'>
): IRunDetail['parameters'] {
  const given: IRunDetail['parameters'] = {};
  for (const [name, value] of Object.entries(run.parameters)) {
    if (isOverridden(run, name)) {
      given[name] = value;
    }
  }
  return given;
}

/** The layout restorer's name of a Compare of these runs (order kept). */
export function compareRestoreName(ids: ReadonlyArray<string>): string {
  return ids.join(',');
}

/** The keys of several objects, each once, in first-seen order. */
export function unionOfKeys(objects: ReadonlyArray<object>): string[] {
  const keys: string[] = [];
  for (const object of objects) {
    for (const key of Object.keys(object)) {
      if (!keys.includes(key)) {
        keys.push(key);
      }
    }
  }
  return keys;
}

/**
 * The rows of a comparison of `runs`: run facts, then the union of their
 * parameters, then the union of their metrics.
 */
export function compareRows(
  runs: IRunDetail[],
  trans: TranslationBundle
): ICompareRow[] {
  const rows: ICompareRow[] = [];
  const add = (
    section: ICompareRow['section'],
    key: string,
    label: string,
    values: string[],
    defaults: boolean[] = values.map(() => false)
  ) => {
    const distinct = new Set(
      values.map((v, i) => (defaults[i] ? '\0default' : v))
    );
    rows.push({
      key,
      label,
      section,
      values,
      defaults,
      differs: distinct.size > 1
    });
  };
  const facts: Array<[string, string, (run: IRunDetail) => string]> = [
    ['notebook', trans.__('Notebook'), r => r.notebook],
    ['kernel', trans.__('Kernel'), r => r.kernel],
    ['commit', trans.__('Commit'), r => shortSha(r.commit)],
    ['seed', trans.__('Seed'), r => String(r.seed)],
    ['gpus', trans.__('GPUs'), r => String(r.gpus)],
    ['tags', trans.__('Tags'), r => r.tags.join(', ')]
  ];
  for (const [key, label, value] of facts) {
    add('run', key, label, runs.map(value));
  }
  const durations = runs.map(r => formatDuration(runSeconds(r)));
  rows.push({
    key: 'duration',
    label: trans.__('Duration'),
    section: 'run',
    values: durations,
    defaults: runs.map(() => false),
    differs: false
  });

  for (const name of unionOfKeys(runs.map(r => r.parameters))) {
    const has = runs.map(r =>
      Object.prototype.hasOwnProperty.call(r.parameters, name)
    );
    const values = runs.map((r, i) =>
      has[i] ? formatValue(r.parameters[name] as JSONValue) : ''
    );
    const defaults = runs.map((r, i) => !has[i] || !isOverridden(r, name));
    // A run that recorded its default shows the value; an older run that
    // recorded only what was given says "default" (its value is unknown).
    const shown = values.map((v, i) => (has[i] ? v : trans.__('default')));
    const distinct = new Set(values.map((v, i) => (has[i] ? v : '\0default')));
    rows.push({
      key: `param:${name}`,
      label: name,
      section: 'parameters',
      values: shown,
      defaults,
      differs: distinct.size > 1
    });
  }

  for (const name of unionOfKeys(runs.map(r => r.metrics ?? {})).sort()) {
    add(
      'metrics',
      `metric:${name}`,
      name,
      runs.map(r =>
        r.metrics && name in r.metrics ? formatMetric(r.metrics[name]) : '—'
      )
    );
  }
  return rows;
}
