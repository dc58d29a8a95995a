/**
 * Cron expressions in words, and the obvious mistakes caught before the
 * server sees them.
 *
 * The server (`jupyter_mlops/scheduling/cron.py`, croniter) accepts 5 fields
 * (minute hour day-of-month month weekday), 6 with seconds *last*, and the
 * aliases `@hourly`, `@daily`, `@weekly`, `@monthly`, `@yearly`. The common
 * forms are described here; for anything else (`L`, `W`, `#`, unusual
 * combinations) the description falls back to the fields one by one, and the
 * server's message is the authority on validity.
 */
import { nullTranslator, TranslationBundle } from '@jupyterlab/translation';

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

type FieldName = 'second' | 'minute' | 'hour' | 'day' | 'month' | 'weekday';

const RANGES: Record<FieldName, [number, number]> = {
  second: [0, 59],
  minute: [0, 59],
  hour: [0, 23],
  day: [1, 31],
  month: [1, 12],
  weekday: [0, 7]
};

const MONTH_NAMES = [
  'jan',
  'feb',
  'mar',
  'apr',
  'may',
  'jun',
  'jul',
  'aug',
  'sep',
  'oct',
  'nov',
  'dec'
];
const DAY_NAMES = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];

/** One comma-separated item of a field: `*`, `5`, `1-5`, `*\/15`, `0-30/10`. */
interface IItem {
  /** null: `*` (the whole range). */
  from: number | null;
  to: number | null;
  step: number;
}

/** A parsed field; `exotic` when it uses syntax described only by the server. */
interface IField {
  text: string;
  items: IItem[];
  exotic: boolean;
}

/** The fields of an expression, seconds included (`0` for 5 fields). */
interface IParsed {
  second: IField;
  minute: IField;
  hour: IField;
  day: IField;
  month: IField;
  weekday: IField;
  hasSeconds: boolean;
}

class CronSyntaxError extends Error {}

function fieldLabel(name: FieldName, trans: TranslationBundle): string {
  switch (name) {
    case 'second':
      return trans.__('second');
    case 'minute':
      return trans.__('minute');
    case 'hour':
      return trans.__('hour');
    case 'day':
      return trans.__('day of month');
    case 'month':
      return trans.__('month');
    case 'weekday':
      return trans.__('weekday');
  }
}

function parseValue(
  text: string,
  name: FieldName,
  trans: TranslationBundle
): number {
  const lower = text.toLowerCase();
  if (name === 'month' && MONTH_NAMES.includes(lower)) {
    return MONTH_NAMES.indexOf(lower) + 1;
  }
  if (name === 'weekday' && DAY_NAMES.includes(lower)) {
    return DAY_NAMES.indexOf(lower);
  }
  if (!/^\d+$/.test(text)) {
    throw new CronSyntaxError(
      trans.__('"%1" is not a valid %2.', text, fieldLabel(name, trans))
    );
  }
  const value = Number(text);
  const [lo, hi] = RANGES[name];
  if (value < lo || value > hi) {
    throw new CronSyntaxError(
      trans.__(
        'The %1 %2 is out of range (%3 to %4).',
        fieldLabel(name, trans),
        value,
        lo,
        hi
      )
    );
  }
  return value;
}

function parseField(
  text: string,
  name: FieldName,
  trans: TranslationBundle
): IField {
  try {
    return { text, items: parseItems(text, name, trans), exotic: false };
  } catch (error) {
    // `L`, `W`, `#` (last day, nearest weekday, n-th weekday): the server decides
    if (error instanceof CronSyntaxError && /[LW#]/i.test(text)) {
      return { text, items: [], exotic: true };
    }
    throw error;
  }
}

function parseItems(
  text: string,
  name: FieldName,
  trans: TranslationBundle
): IItem[] {
  const items: IItem[] = [];
  for (const part of text.split(',')) {
    if (!part) {
      throw new CronSyntaxError(
        trans.__('Empty item in the %1 field.', fieldLabel(name, trans))
      );
    }
    const [range, stepText, extra] = part.split('/');
    if (extra !== undefined) {
      throw new CronSyntaxError(
        trans.__('"%1" is not a valid %2.', part, fieldLabel(name, trans))
      );
    }
    let step = 1;
    if (stepText !== undefined) {
      if (!/^\d+$/.test(stepText) || Number(stepText) < 1) {
        throw new CronSyntaxError(
          trans.__(
            'The step "%1" of the %2 field must be a whole number from 1.',
            stepText,
            fieldLabel(name, trans)
          )
        );
      }
      step = Number(stepText);
    }
    if (range === '*' || range === '?') {
      items.push({ from: null, to: null, step });
      continue;
    }
    const bounds = range.split('-');
    if (bounds.length > 2) {
      throw new CronSyntaxError(
        trans.__('"%1" is not a valid %2.', part, fieldLabel(name, trans))
      );
    }
    const from = parseValue(bounds[0], name, trans);
    const to =
      bounds.length === 2
        ? parseValue(bounds[1], name, trans)
        : stepText !== undefined
          ? RANGES[name][1]
          : from;
    if (to < from) {
      throw new CronSyntaxError(
        trans.__(
          'The range "%1" of the %2 field goes backwards.',
          range,
          fieldLabel(name, trans)
        )
      );
    }
    items.push({ from, to, step });
  }
  return items;
}

function parse(expr: string, trans: TranslationBundle): IParsed {
  const text = expr.trim().split(/\s+/).join(' ');
  const expanded = CRON_ALIASES[text.toLowerCase()] ?? text;
  if (expanded.startsWith('@')) {
    throw new CronSyntaxError(
      trans.__(
        'Unknown alias "%1": use @hourly, @daily, @weekly, @monthly or @yearly.',
        text
      )
    );
  }
  const parts = expanded.split(' ');
  if (parts.length !== 5 && parts.length !== 6) {
    throw new CronSyntaxError(
      trans.__(
        'Expected 5 fields (minute hour day month weekday), or 6 with seconds last; got %1.',
        parts.length
      )
    );
  }
  const names: FieldName[] = ['minute', 'hour', 'day', 'month', 'weekday'];
  const fields = names.map((name, i) => parseField(parts[i], name, trans));
  const second = parseField(parts[5] ?? '0', 'second', trans);
  return {
    minute: fields[0],
    hour: fields[1],
    day: fields[2],
    month: fields[3],
    weekday: fields[4],
    second,
    hasSeconds: parts.length === 6
  };
}

/**
 * What is wrong with a cron expression, or null when it looks valid (the
 * server checks the rest: e.g. `0 0 30 2 *` parses but never fires).
 */
export function cronProblem(
  expr: string,
  trans: TranslationBundle = nullTranslator.load('jupyter_mlops')
): string | null {
  if (!expr.trim()) {
    return trans.__(
      'Enter a cron expression, e.g. 0 3 * * * (daily at 03:00).'
    );
  }
  try {
    parse(expr, trans);
    return null;
  } catch (error) {
    if (error instanceof CronSyntaxError) {
      return error.message;
    }
    throw error;
  }
}

// -- words -------------------------------------------------------------------------

const isAll = (f: IField) =>
  !f.exotic &&
  f.items.length === 1 &&
  f.items[0].from === null &&
  f.items[0].step === 1;

/** `*\/n`: the step n, else null. */
function everyStep(f: IField): number | null {
  if (f.exotic || f.items.length !== 1) {
    return null;
  }
  const item = f.items[0];
  return item.from === null && item.step > 1 ? item.step : null;
}

/** The values of a field made of single values only (`5`, `1,15`), else null. */
function singles(f: IField): number[] | null {
  if (f.exotic || !f.items.length) {
    return null;
  }
  const out: number[] = [];
  for (const item of f.items) {
    if (item.from === null || item.from !== item.to) {
      return null;
    }
    out.push(item.from);
  }
  return out;
}

/** One plain range `a-b` (step 1), else null. */
function plainRange(f: IField): [number, number] | null {
  if (f.exotic || f.items.length !== 1) {
    return null;
  }
  const item = f.items[0];
  if (item.from === null || item.to === null || item.step !== 1) {
    return null;
  }
  return item.from === item.to ? null : [item.from, item.to];
}

const pad = (n: number) => String(n).padStart(2, '0');

function joinWords(words: string[], trans: TranslationBundle): string {
  if (words.length <= 1) {
    return words.join('');
  }
  return trans.__(
    '%1 and %2',
    words.slice(0, -1).join(', '),
    words[words.length - 1]
  );
}

function dayName(n: number, trans: TranslationBundle): string {
  const names = [
    trans.__('Sunday'),
    trans.__('Monday'),
    trans.__('Tuesday'),
    trans.__('Wednesday'),
    trans.__('Thursday'),
    trans.__('Friday'),
    trans.__('Saturday')
  ];
  return names[n % 7];
}

function monthName(n: number, trans: TranslationBundle): string {
  const names = [
    trans.__('January'),
    trans.__('February'),
    trans.__('March'),
    trans.__('April'),
    trans.__('May'),
    trans.__('June'),
    trans.__('July'),
    trans.__('August'),
    trans.__('September'),
    trans.__('October'),
    trans.__('November'),
    trans.__('December')
  ];
  return names[n - 1];
}

/** The weekdays a field selects (0 = Sunday), or null for steps/exotic. */
function weekdaySet(f: IField): Set<number> | null {
  if (f.exotic) {
    return null;
  }
  const days = new Set<number>();
  for (const item of f.items) {
    if (item.from === null || item.to === null) {
      return null;
    }
    for (let d = item.from; d <= item.to; d += item.step) {
      days.add(d % 7);
    }
  }
  return days;
}

/** `on Monday`, `on weekdays (Monday to Friday)`, ... */
function weekdayPhrase(f: IField, trans: TranslationBundle): string | null {
  const days = weekdaySet(f);
  if (!days) {
    return null;
  }
  const sorted = [...days].sort((a, b) => a - b);
  const key = sorted.join(',');
  if (key === '1,2,3,4,5') {
    return trans.__('on weekdays (Monday to Friday)');
  }
  if (key === '0,6') {
    return trans.__('on Saturdays and Sundays');
  }
  const range = plainRange(f);
  if (range && range[1] - range[0] >= 2 && range[1] <= 6) {
    return trans.__(
      'from %1 to %2',
      dayName(range[0], trans),
      dayName(range[1], trans)
    );
  }
  // Monday first, Sunday last, as people say them.
  const order = sorted.filter(d => d !== 0).concat(days.has(0) ? [0] : []);
  return trans.__(
    'on %1',
    joinWords(
      order.map(d => dayName(d, trans)),
      trans
    )
  );
}

/** `on day 1`, `on days 1 and 15` (of the month), or null. */
function dayPhrase(f: IField, trans: TranslationBundle): string | null {
  const values = singles(f);
  if (values) {
    return trans._n(
      'on day %2',
      'on days %2',
      values.length,
      joinWords(values.map(String), trans)
    );
  }
  const range = plainRange(f);
  if (range) {
    return trans.__('on days %1 to %2', range[0], range[1]);
  }
  return null;
}

function monthPhrase(f: IField, trans: TranslationBundle): string | null {
  const values = singles(f);
  if (values) {
    return trans.__(
      'in %1',
      joinWords(
        values.map(m => monthName(m, trans)),
        trans
      )
    );
  }
  const range = plainRange(f);
  if (range) {
    return trans.__(
      'from %1 to %2',
      monthName(range[0], trans),
      monthName(range[1], trans)
    );
  }
  return null;
}

/** A field item by item, for the fallback description. */
function fieldWords(f: IField, trans: TranslationBundle): string {
  if (f.exotic) {
    return f.text;
  }
  return f.items
    .map(item => {
      if (item.from === null) {
        return item.step > 1
          ? trans.__('every %1', item.step)
          : trans.__('any');
      }
      if (item.from === item.to) {
        return String(item.from);
      }
      const range = `${item.from}–${item.to}`;
      return item.step > 1
        ? trans.__('every %1 in %2', item.step, range)
        : range;
    })
    .join(', ');
}

function fallback(p: IParsed, trans: TranslationBundle): string {
  const parts: string[] = [];
  const add = (f: IField, name: FieldName) => {
    if (!isAll(f) || name === 'second') {
      parts.push(`${fieldLabel(name, trans)}: ${fieldWords(f, trans)}`);
    }
  };
  if (p.hasSeconds) {
    add(p.second, 'second');
  }
  add(p.minute, 'minute');
  add(p.hour, 'hour');
  add(p.day, 'day');
  add(p.month, 'month');
  add(p.weekday, 'weekday');
  return parts.length ? parts.join(' · ') : trans.__('Every minute');
}

/** The days part: restrictions of day of month, month and weekday, or ''. */
function daysWords(p: IParsed, trans: TranslationBundle): string | null {
  const words: string[] = [];
  const dayAll = isAll(p.day);
  const weekdayAll = isAll(p.weekday);
  if (!dayAll && !weekdayAll) {
    // cron's rule: either matches
    const d = dayPhrase(p.day, trans);
    const w = weekdayPhrase(p.weekday, trans);
    if (!d || !w) {
      return null;
    }
    words.push(trans.__('%1 of the month or %2', d, w));
  } else if (!dayAll) {
    const d = dayPhrase(p.day, trans);
    if (!d) {
      return null;
    }
    words.push(trans.__('%1 of the month', d));
  } else if (!weekdayAll) {
    const w = weekdayPhrase(p.weekday, trans);
    if (!w) {
      return null;
    }
    words.push(w);
  }
  if (!isAll(p.month)) {
    const m = monthPhrase(p.month, trans);
    if (!m) {
      return null;
    }
    words.push(m);
  }
  return words.join(', ');
}

/** The time-of-day part, or null when the fields are not a common form. */
function timeWords(
  p: IParsed,
  trans: TranslationBundle
): { text: string; daily: boolean } | null {
  const { second, minute, hour } = p;
  const secondZero = singles(second)?.join(',') === '0';
  if (!secondZero) {
    if (!isAll(minute) || !isAll(hour)) {
      return null;
    }
    if (isAll(second)) {
      return { text: trans.__('Every second'), daily: false };
    }
    const step = everyStep(second);
    if (step) {
      return { text: trans.__('Every %1 seconds', step), daily: false };
    }
    const at = singles(second);
    if (at) {
      return {
        text: trans.__(
          'Every minute at second %1',
          joinWords(at.map(String), trans)
        ),
        daily: false
      };
    }
    return null;
  }
  if (isAll(minute) && isAll(hour)) {
    return { text: trans.__('Every minute'), daily: false };
  }
  const minuteStep = everyStep(minute);
  if (minuteStep && isAll(hour)) {
    return { text: trans.__('Every %1 minutes', minuteStep), daily: false };
  }
  const hourSpan = plainRange(hour);
  if (minuteStep && hourSpan) {
    return {
      text: trans.__(
        'Every %1 minutes from %2 to %3',
        minuteStep,
        `${pad(hourSpan[0])}:00`,
        `${pad(hourSpan[1])}:59`
      ),
      daily: false
    };
  }
  const minutes = singles(minute);
  if (!minutes) {
    return null;
  }
  const past = minutes.map(m => `:${pad(m)}`);
  if (isAll(hour)) {
    return {
      text:
        minutes.length === 1 && minutes[0] === 0
          ? trans.__('Every hour, on the hour')
          : trans.__('Every hour at %1', joinWords(past, trans)),
      daily: false
    };
  }
  const hourStep = everyStep(hour);
  if (hourStep) {
    return {
      text:
        minutes.length === 1 && minutes[0] === 0
          ? trans.__('Every %1 hours, on the hour', hourStep)
          : trans.__('Every %1 hours at %2', hourStep, joinWords(past, trans)),
      daily: false
    };
  }
  const hourRange = plainRange(hour);
  if (hourRange && minutes.length === 1) {
    const m = pad(minutes[0]);
    return {
      text: trans.__(
        'Every hour from %1 to %2',
        `${pad(hourRange[0])}:${m}`,
        `${pad(hourRange[1])}:${m}`
      ),
      daily: false
    };
  }
  const hours = singles(hour);
  if (!hours) {
    return null;
  }
  const times: string[] = [];
  for (const h of hours) {
    for (const m of minutes) {
      times.push(`${pad(h)}:${pad(m)}`);
    }
  }
  if (times.length > 6) {
    return null;
  }
  return { text: joinWords(times, trans), daily: true };
}

/**
 * A cron expression in words, e.g. `0 8 * * 1` -> "Every Monday at 08:00".
 * Null when the expression is invalid (see {@link cronProblem}).
 */
export function describeCron(
  expr: string,
  trans: TranslationBundle = nullTranslator.load('jupyter_mlops')
): string | null {
  let p: IParsed;
  try {
    p = parse(expr, trans);
  } catch (error) {
    if (error instanceof CronSyntaxError) {
      return null;
    }
    throw error;
  }
  const time = timeWords(p, trans);
  const days = daysWords(p, trans);
  if (!time || days === null) {
    return fallback(p, trans);
  }
  if (!time.daily) {
    return days ? `${time.text}, ${days}` : time.text;
  }
  // A time of day.
  const dayAll = isAll(p.day);
  const weekdayAll = isAll(p.weekday);
  const monthDays = singles(p.day);
  const months = singles(p.month);
  if (dayAll && weekdayAll && isAll(p.month)) {
    return trans.__('Every day at %1', time.text);
  }
  if (
    !dayAll &&
    weekdayAll &&
    monthDays?.length === 1 &&
    months?.length === 1
  ) {
    return trans.__(
      'Every year on %1 %2 at %3',
      monthName(months[0], trans),
      monthDays[0],
      time.text
    );
  }
  if (dayAll && !weekdayAll && isAll(p.month)) {
    const set = weekdaySet(p.weekday);
    if (set && set.size === 1) {
      return trans.__('Every %1 at %2', dayName([...set][0], trans), time.text);
    }
  }
  if (!dayAll && weekdayAll && isAll(p.month)) {
    return trans.__(
      'At %1 %2 of every month',
      time.text,
      dayPhrase(p.day, trans) ?? ''
    );
  }
  return trans.__('At %1 %2', time.text, days);
}
