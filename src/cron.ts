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
 */
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

/**
 * A cron expression in words (24-hour times), e.g. `0 8 * * 1` ->
 * "At 08:00, only on Monday"; null when it cannot be read (the server's
 * `cron/preview` says why).
 */
export function describeCron(expr: string): string | null {
  const ordered = toCronstrueOrder(expr);
  if (ordered === null || ordered.startsWith('@')) {
    return null;
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
