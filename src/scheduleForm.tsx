/**
 * The "Schedule" section of the Run as job dialog: run the notebook on a
 * cron schedule (`POST schedules`) instead of once now.
 */
import { TranslationBundle } from '@jupyterlab/translation';
import * as React from 'react';

import { ISubmitRequest } from './api';
import { Field, FieldError, inputClass } from './components';
import { cronProblem, describeCron } from './cron';
import {
  CatchupPolicy,
  ConcurrencyPolicy,
  IScheduleRequest
} from './schedulesApi';

/** What the schedule section holds. */
export interface IScheduleFormState {
  /** "Run on a schedule" is ticked. */
  enabled: boolean;
  /** A preset id, or `custom`. */
  preset: string;
  cron: string;
  timezone: string;
  branch: string;
  name: string;
  concurrency: ConcurrencyPolicy;
  catchup: CatchupPolicy;
}

/** The presets offered (the custom expression starts as the daily one). */
export const CRON_PRESETS: ReadonlyArray<{ id: string; cron: string }> = [
  { id: 'hourly', cron: '0 * * * *' },
  { id: 'daily', cron: '0 3 * * *' },
  { id: 'weekly', cron: '0 8 * * 1' }
];

export const CUSTOM_PRESET = 'custom';

/** Keys of the section's fields in an error map. */
export const SCHEDULE_FIELDS = {
  cron: '@schedule-cron',
  timezone: '@schedule-timezone',
  name: '@schedule-name'
} as const;

/** The browser's IANA time zone (UTC when it cannot tell). */
export function browserTimeZone(): string {
  try {
    return Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
  } catch {
    return 'UTC';
  }
}

/** IANA zone names the browser knows (for suggestions; may be empty). */
export function knownTimeZones(): string[] {
  const intl = Intl as unknown as {
    supportedValuesOf?: (key: string) => string[];
  };
  try {
    return intl.supportedValuesOf ? intl.supportedValuesOf('timeZone') : [];
  } catch {
    return [];
  }
}

export function initialScheduleState(): IScheduleFormState {
  return {
    enabled: false,
    preset: 'daily',
    cron: '0 3 * * *',
    timezone: browserTimeZone(),
    branch: '',
    name: '',
    concurrency: 'skip',
    catchup: 'skip'
  };
}

/** Why a time zone cannot be used, or null (the browser's zone database). */
export function timeZoneProblem(
  timezone: string,
  trans: TranslationBundle
): string | null {
  const name = timezone.trim();
  if (!name) {
    return trans.__('Enter a time zone, e.g. Europe/Berlin or UTC.');
  }
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: name });
    return null;
  } catch {
    return trans.__(
      'Unknown time zone "%1": use an IANA name such as Europe/Berlin, America/New_York or UTC.',
      name
    );
  }
}

/** Problems of the section's fields (empty when it is off or valid). */
export function checkScheduleForm(
  state: IScheduleFormState,
  trans: TranslationBundle
): Record<string, string> {
  const errors: Record<string, string> = {};
  if (!state.enabled) {
    return errors;
  }
  const cron = cronProblem(state.cron, trans);
  if (cron) {
    errors[SCHEDULE_FIELDS.cron] = cron;
  }
  const timezone = timeZoneProblem(state.timezone, trans);
  if (timezone) {
    errors[SCHEDULE_FIELDS.timezone] = timezone;
  }
  if (state.name.trim().length > 255) {
    errors[SCHEDULE_FIELDS.name] = trans.__(
      'A name is at most 255 characters long.'
    );
  }
  return errors;
}

/**
 * The schedule to create for a valid run request: same notebook, parameters,
 * kernel, GPUs, timeout and tags. (A seed and "commit the notebook" belong to
 * one run: each scheduled run draws its own seed.)
 */
export function scheduleRequest(
  run: ISubmitRequest,
  state: IScheduleFormState
): IScheduleRequest {
  const request: IScheduleRequest = {
    notebook: run.notebook,
    cron: state.cron.trim(),
    timezone: state.timezone.trim(),
    parameters: run.parameters ?? {},
    kernel: run.kernel ?? null,
    gpus: run.gpus ?? 0,
    timeout: run.timeout ?? null,
    tags: run.tags ?? [],
    concurrency: state.concurrency,
    catchup: state.catchup
  };
  if (state.branch.trim()) {
    request.branch = state.branch.trim();
  }
  if (state.name.trim()) {
    request.name = state.name.trim();
  }
  return request;
}

function presetLabel(id: string, trans: TranslationBundle): string {
  switch (id) {
    case 'hourly':
      return trans.__('Hourly');
    case 'daily':
      return trans.__('Daily at 03:00');
    case 'weekly':
      return trans.__('Mondays at 08:00');
    default:
      return trans.__('Custom');
  }
}

/**
 * The section: a checkbox that reveals the schedule's fields.
 */
export function ScheduleSection(props: {
  state: IScheduleFormState;
  errors: Record<string, string>;
  /** The server's refusal of the last attempt, shown here while scheduling. */
  serverError: string | null;
  /** Run-only options the user set (seed, commit), which a schedule ignores. */
  ignored: string[];
  disabled: boolean;
  trans: TranslationBundle;
  onChange: (state: IScheduleFormState) => void;
}): JSX.Element {
  const { state, errors, trans } = props;
  const set = (patch: Partial<IScheduleFormState>) =>
    props.onChange({ ...state, ...patch });
  const zones = React.useMemo(knownTimeZones, []);
  const cronError = errors[SCHEDULE_FIELDS.cron];
  const description = cronError ? null : describeCron(state.cron, trans);
  return (
    <fieldset
      className="jp-mlops-fieldset jp-mlops-schedule-section"
      disabled={props.disabled}
    >
      <legend>{trans.__('Schedule')}</legend>
      <label className="jp-mlops-checkbox-label">
        <input
          id="jp-mlops-schedule-enabled"
          type="checkbox"
          checked={state.enabled}
          onChange={e => set({ enabled: e.target.checked })}
        />
        {trans.__('Run on a schedule')}
      </label>
      {!state.enabled && (
        <p className="jp-mlops-hint">
          {trans.__(
            'Run this notebook with these parameters at regular times (cron), from the working copy or from a branch.'
          )}
        </p>
      )}
      {state.enabled && (
        <div className="jp-mlops-schedule-fields">
          {props.serverError && (
            <div className="jp-mlops-form-error" role="alert">
              {props.serverError}
            </div>
          )}
          <div
            className="jp-mlops-cron-presets"
            role="radiogroup"
            aria-label={trans.__('When')}
          >
            {[...CRON_PRESETS.map(p => p.id), CUSTOM_PRESET].map(id => (
              <label
                key={id}
                className={`jp-mlops-cron-preset${state.preset === id ? ' jp-mod-active' : ''}`}
              >
                <input
                  type="radio"
                  name="jp-mlops-schedule-preset"
                  value={id}
                  data-preset={id}
                  checked={state.preset === id}
                  onChange={() => {
                    const preset = CRON_PRESETS.find(p => p.id === id);
                    set({
                      preset: id,
                      cron: preset ? preset.cron : state.cron
                    });
                  }}
                />
                {presetLabel(id, trans)}
              </label>
            ))}
          </div>
          <div className="jp-mlops-field">
            <label
              htmlFor="jp-mlops-schedule-cron"
              className="jp-mlops-field-label"
            >
              {trans.__('Cron expression')}
            </label>
            <input
              id="jp-mlops-schedule-cron"
              type="text"
              spellCheck={false}
              className={inputClass(
                errors[SCHEDULE_FIELDS.cron],
                'jp-mlops-cron-input'
              )}
              value={state.cron}
              aria-invalid={cronError ? true : undefined}
              aria-describedby="jp-mlops-schedule-preview"
              onChange={e => {
                const cron = e.target.value;
                const preset = CRON_PRESETS.find(p => p.cron === cron.trim());
                set({ cron, preset: preset ? preset.id : CUSTOM_PRESET });
              }}
            />
            <div
              id="jp-mlops-schedule-preview"
              className="jp-mlops-cron-preview"
              aria-live="polite"
            >
              {description
                ? trans.__('%1 (%2 time)', description, state.timezone.trim())
                : ''}
            </div>
            <FieldError error={cronError} />
            <div className="jp-mlops-field-help">
              {trans.__(
                'minute hour day-of-month month weekday, e.g. 30 2 * * 1-5; a 6th field is seconds (* * * * * */30: every 30 s)'
              )}
            </div>
          </div>
          <div className="jp-mlops-field-row">
            <Field
              id="jp-mlops-schedule-timezone"
              label={trans.__('Time zone')}
              error={errors[SCHEDULE_FIELDS.timezone]}
            >
              <input
                id="jp-mlops-schedule-timezone"
                type="text"
                list="jp-mlops-schedule-timezones"
                spellCheck={false}
                className={inputClass(errors[SCHEDULE_FIELDS.timezone])}
                value={state.timezone}
                onChange={e => set({ timezone: e.target.value })}
              />
              <datalist id="jp-mlops-schedule-timezones">
                {zones.map(z => (
                  <option key={z} value={z} />
                ))}
              </datalist>
            </Field>
            <Field
              id="jp-mlops-schedule-branch"
              label={trans.__('Branch (optional)')}
            >
              <input
                id="jp-mlops-schedule-branch"
                type="text"
                spellCheck={false}
                className={inputClass()}
                placeholder={trans.__('working copy')}
                value={state.branch}
                onChange={e => set({ branch: e.target.value })}
              />
            </Field>
          </div>
          <div className="jp-mlops-field-help">
            {state.branch.trim()
              ? trans.__(
                  'Each run executes the notebook as last committed on branch "%1" (GitOps), whatever the working copy holds.',
                  state.branch.trim()
                )
              : trans.__(
                  'Each run executes the notebook as saved at that moment. Name a branch to run what is committed on it instead.'
                )}
          </div>
          <div className="jp-mlops-field-row">
            <Field
              id="jp-mlops-schedule-name"
              label={trans.__('Name (optional)')}
              error={errors[SCHEDULE_FIELDS.name]}
            >
              <input
                id="jp-mlops-schedule-name"
                type="text"
                className={inputClass(errors[SCHEDULE_FIELDS.name])}
                placeholder={trans.__('the notebook name')}
                value={state.name}
                onChange={e => set({ name: e.target.value })}
              />
            </Field>
            <Field
              id="jp-mlops-schedule-concurrency"
              label={trans.__('If still running')}
            >
              <select
                id="jp-mlops-schedule-concurrency"
                className={inputClass()}
                value={state.concurrency}
                onChange={e =>
                  set({ concurrency: e.target.value as ConcurrencyPolicy })
                }
              >
                <option value="skip">{trans.__('skip this time')}</option>
                <option value="queue">{trans.__('start when it ends')}</option>
                <option value="allow">{trans.__('start another')}</option>
              </select>
            </Field>
            <Field
              id="jp-mlops-schedule-catchup"
              label={trans.__('Missed runs')}
            >
              <select
                id="jp-mlops-schedule-catchup"
                title={trans.__(
                  'Slots missed while no scheduler was running (server down, schedule paused)'
                )}
                className={inputClass()}
                value={state.catchup}
                onChange={e =>
                  set({ catchup: e.target.value as CatchupPolicy })
                }
              >
                <option value="skip">{trans.__('skip them')}</option>
                <option value="once">{trans.__('run the latest')}</option>
                <option value="all">{trans.__('run each (up to 10)')}</option>
              </select>
            </Field>
          </div>
          {props.ignored.length > 0 && (
            <p className="jp-mlops-hint">
              {trans.__(
                'Not used by a schedule: %1 (each scheduled run draws its own seed).',
                props.ignored.join(', ')
              )}
            </p>
          )}
        </div>
      )}
    </fieldset>
  );
}
