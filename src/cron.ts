/**
 * Cron expressions in words, by cronstrue.
 *
 * The server (`jupyter_mlops/scheduling/cron.py`, croniter) is the authority
 * on what an expression means and whether it is valid: the Schedule form asks
 * it through `GET cron/preview` (see `cronCheck.ts`). It accepts 5 fields
 * (minute hour day-of-month month weekday), 6 with seconds *last* (a 7th is
 * the year), and the aliases `@hourly`, `@daily`, `@weekly`, `@monthly`,
 * `@yearly`. cronstrue reads seconds *first*, so the fields are reordered
 * for it here.
 *
 * The presets of the Schedule form and their close kin (a time every day,
 * on one weekday, on weekdays; every hour on the hour) keep their own
 * shorter phrases ("Every Monday at 08:00"), which the UI has always shown;
 * everything else is cronstrue's.
 */
import type { TranslationBundle } from '@jupyterlab/translation';
import cronstrue from 'cronstrue';

/** Aliases, expanded as the server does. */
export const CRON_ALIASES: Readonly<Record<string, string>> = {
  '@yearly': '0 0 1 1 *',
  '@annually': '0 0 1 1 *',
  '@monthly': '0 0 1 * *',
  '@weekly': '0 0 * * 0',
  '@daily': '0 0 * * *',
  '@midnight': '0 0 * * *',
  '@hourly': '0 * * * *'
};

/**
 * The expression in cronstrue's field order: aliases expanded, seconds moved
 * from last (croniter) to first; null when it has not 5 to 7 fields.
 */
export function toCronstrueOrder(expr: string): string | null {
  const text = expr.trim().split(/\s+/).join(' ');
  const expanded = CRON_ALIASES[text.toLowerCase()] ?? text;
  const fields = expanded.split(' ');
  switch (fields.length) {
    case 5:
      return expanded;
    case 6:
    case 7: {
      const [minute, hour, day, month, weekday, second, ...year] = fields;
      return [second, minute, hour, day, month, weekday, ...year].join(' ');
    }
    default:
      return null;
  }
}

/** Whether a field is one whole number from `lo` to `hi`. */
function isNumberIn(field: string, lo: number, hi: number): boolean {
  return /^\d{1,2}$/.test(field) && Number(field) >= lo && Number(field) <= hi;
}

const pad = (field: string) => field.padStart(2, '0');

function dayName(day: number, trans: TranslationBundle): string {
  return [
    trans.__('Sunday'),
    trans.__('Monday'),
    trans.__('Tuesday'),
    trans.__('Wednesday'),
    trans.__('Thursday'),
    trans.__('Friday'),
    trans.__('Saturday')
  ][day % 7];
}

/** The phrase of a preset-like expression (5 fields), or null. */
function presetPhrase(expr: string, trans: TranslationBundle): string | null {
  const fields = expr.split(' ');
  if (fields.length !== 5) {
    return null;
  }
  const [minute, hour, day, month, weekday] = fields;
  if (day !== '*' || month !== '*') {
    return null;
  }
  if (minute === '0' && hour === '*' && weekday === '*') {
    return trans.__('Every hour, on the hour');
  }
  if (!isNumberIn(minute, 0, 59) || !isNumberIn(hour, 0, 23)) {
    return null;
  }
  const time = `${pad(hour)}:${pad(minute)}`;
  if (weekday === '*') {
    return trans.__('Every day at %1', time);
  }
  if (weekday === '1-5') {
    return trans.__('At %1 on weekdays (Monday to Friday)', time);
  }
  if (isNumberIn(weekday, 0, 7)) {
    return trans.__('Every %1 at %2', dayName(Number(weekday), trans), time);
  }
  return null;
}

/**
 * A cron expression in words (24-hour times), e.g. `0 8 * * 1` -> "Every
 * Monday at 08:00", `*\/15 9-17 * * *` -> "Every 15 minutes, between 09:00
 * and 17:59"; null when it cannot be read (the server's `cron/preview`
 * says why).
 */
export function describeCron(
  expr: string,
  trans: TranslationBundle
): string | null {
  const ordered = toCronstrueOrder(expr);
  if (ordered === null || ordered.startsWith('@')) {
    return null;
  }
  const phrase = presetPhrase(ordered, trans);
  if (phrase) {
    return phrase;
  }
  try {
    return cronstrue.toString(ordered, {
      use24HourTimeFormat: true,
      throwExceptionOnParseError: true
    });
  } catch {
    return null;
  }
}
