/**
 * The "Schedule" section of the Run as job dialog: run the notebook on a
 * cron schedule (`POST schedules`) instead of once now. The expression is
 * described in words by cronstrue and checked by the server as it is typed
 * (`cronCheck.ts`), which also lists its next fire times.
 */
import { TranslationBundle } from '@jupyterlab/translation';
import * as React from 'react';

import type {
  CatchupPolicy,
  ConcurrencyPolicy,
  IScheduleRequest,
  ISubmitRequest
} from './api';
import { ErrorBanner } from './components';
import { describeCron } from './cron';
import type { CronVerdict } from './cronCheck';
import {
  CheckboxField,
  Field,
  inputClass,
  SelectField,
  TextField,
  textBinder
} from './formFields';
import { formatClock, formatTime } from './format';

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

/** Next fire times listed under the expression. */
const NEXT_SHOWN = 3;

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

/**
 * The zone to send with the expression to the server's check: the typed one
 * when the browser knows it, else '' (the server's zone: the expression is
 * checked all the same, and the zone's own problem is shown under its field).
 */
export function cronCheckZone(
  state: IScheduleFormState,
  trans: TranslationBundle
): string {
  return timeZoneProblem(state.timezone, trans) ? '' : state.timezone.trim();
}

/**
 * Problems of the section's fields (empty when it is off or valid). The
 * expression's problem is the server's (`verdict`); an empty one is asked
 * for here.
 */
export function checkScheduleForm(
  state: IScheduleFormState,
  trans: TranslationBundle,
  verdict: CronVerdict = { state: 'unknown' }
): Record<string, string> {
  const errors: Record<string, string> = {};
  if (!state.enabled) {
    return errors;
  }
  if (!state.cron.trim()) {
    errors[SCHEDULE_FIELDS.cron] = trans.__(
      'Enter a cron expression, e.g. 0 3 * * * (daily at 03:00).'
    );
  } else if (verdict.state === 'invalid') {
    errors[SCHEDULE_FIELDS.cron] = verdict.error;
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

/** The preset a typed expression is (`custom` when none). */
export function presetOf(cron: string): string {
  return CRON_PRESETS.find(p => p.cron === cron.trim())?.id ?? CUSTOM_PRESET;
}

function presetLabels(trans: TranslationBundle): Record<string, string> {
  return {
    hourly: trans.__('Hourly'),
    daily: trans.__('Daily at 03:00'),
    weekly: trans.__('Mondays at 08:00'),
    [CUSTOM_PRESET]: trans.__('Custom')
  };
}

/** The two policies' drop-downs: while still running, and missed runs. */
function policyFields(trans: TranslationBundle): Array<{
  key: 'concurrency' | 'catchup';
  label: string;
  title?: string;
  options: Array<{ value: string; label: string }>;
}> {
  return [
    {
      key: 'concurrency',
      label: trans.__('If still running'),
      options: [
        { value: 'skip', label: trans.__('skip this time') },
        { value: 'queue', label: trans.__('start when it ends') },
        { value: 'allow', label: trans.__('start another') }
      ]
    },
    {
      key: 'catchup',
      label: trans.__('Missed runs'),
      title: trans.__(
        'Slots missed while no scheduler was running (server down, schedule paused)'
      ),
      options: [
        { value: 'skip', label: trans.__('skip them') },
        { value: 'once', label: trans.__('run the latest') },
        { value: 'all', label: trans.__('run each (up to 10)') }
      ]
    }
  ];
}

/** The preset radio buttons. */
function CronPresets(props: {
  state: IScheduleFormState;
  trans: TranslationBundle;
  set: (patch: Partial<IScheduleFormState>) => void;
}): JSX.Element {
  const { state, trans, set } = props;
  const labels = presetLabels(trans);
  return (
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
              set({ preset: id, cron: preset ? preset.cron : state.cron });
            }}
          />
          {labels[id]}
        </label>
      ))}
    </div>
  );
}

/** The expression, its description, its problem and its next fire times. */
function CronField(props: {
  state: IScheduleFormState;
  error: string | undefined;
  verdict: CronVerdict;
  trans: TranslationBundle;
  set: (patch: Partial<IScheduleFormState>) => void;
}): JSX.Element {
  const { state, error, verdict, trans, set } = props;
  const description = error ? null : describeCron(state.cron, trans);
  const next = verdict.state === 'valid' ? verdict.next : [];
  const nextAndSyntax = (
    <>
      {!error && next.length > 0 && (
        <div className="jp-mlops-field-help jp-mlops-cron-next">
          {trans.__('Next:')}{' '}
          {next.slice(0, NEXT_SHOWN).map((t, i) => (
            <span key={t} title={formatTime(t)} data-fire-at={t}>
              {i ? ', ' : ''}
              {formatClock(t)}
            </span>
          ))}
        </div>
      )}
      <div className="jp-mlops-field-help">
        {trans.__(
          'minute hour day-of-month month weekday, e.g. 30 2 * * 1-5; a 6th field is seconds (* * * * * */30: every 30 s)'
        )}
      </div>
    </>
  );
  return (
    <Field
      id="jp-mlops-schedule-cron"
      label={trans.__('Cron expression')}
      error={error}
      after={nextAndSyntax}
    >
      <input
        id="jp-mlops-schedule-cron"
        type="text"
        spellCheck={false}
        className={inputClass(error, 'jp-mlops-cron-input')}
        value={state.cron}
        aria-invalid={error ? true : undefined}
        aria-describedby="jp-mlops-schedule-preview"
        onChange={e => {
          const cron = e.target.value;
          set({ cron, preset: presetOf(cron) });
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
    </Field>
  );
}

/**
 * The section: a checkbox that reveals the schedule's fields.
 */
export function ScheduleSection(props: {
  state: IScheduleFormState;
  errors: Record<string, string>;
  /** The server's verdict on the expression (checked as typed). */
  verdict: CronVerdict;
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
  const bind = textBinder(state, set, errors, SCHEDULE_FIELDS);
  const zones = React.useMemo(knownTimeZones, []);
  return (
    <fieldset
      className="jp-mlops-fieldset jp-mlops-schedule-section"
      disabled={props.disabled}
    >
      <legend>{trans.__('Schedule')}</legend>
      <CheckboxField
        id="jp-mlops-schedule-enabled"
        label={trans.__('Run on a schedule')}
        checked={state.enabled}
        onChange={enabled => set({ enabled })}
      />
      {!state.enabled && (
        <p className="jp-mlops-hint">
          {trans.__(
            'Run this notebook with these parameters at regular times (cron), from the working copy or from a branch.'
          )}
        </p>
      )}
      {state.enabled && (
        <div className="jp-mlops-schedule-fields">
          <ErrorBanner
            error={props.serverError}
            className="jp-mlops-form-error"
          />
          <CronPresets state={state} trans={trans} set={set} />
          <CronField
            state={state}
            error={errors[SCHEDULE_FIELDS.cron]}
            verdict={props.verdict}
            trans={trans}
            set={set}
          />
          <div className="jp-mlops-field-row">
            <TextField
              id="jp-mlops-schedule-timezone"
              label={trans.__('Time zone')}
              list="jp-mlops-schedule-timezones"
              spellCheck={false}
              {...bind('timezone')}
            >
              <datalist id="jp-mlops-schedule-timezones">
                {zones.map(z => (
                  <option key={z} value={z} />
                ))}
              </datalist>
            </TextField>
            <TextField
              id="jp-mlops-schedule-branch"
              label={trans.__('Branch (optional)')}
              spellCheck={false}
              placeholder={trans.__('working copy')}
              {...bind('branch')}
            />
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
            <TextField
              id="jp-mlops-schedule-name"
              label={trans.__('Name (optional)')}
              placeholder={trans.__('the notebook name')}
              {...bind('name')}
            />
            {policyFields(trans).map(field => (
              <SelectField<string>
                key={field.key}
                id={`jp-mlops-schedule-${field.key}`}
                label={field.label}
                title={field.title}
                value={state[field.key]}
                options={field.options}
                onChange={value =>
                  set({ [field.key]: value } as Partial<IScheduleFormState>)
                }
              />
            ))}
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
