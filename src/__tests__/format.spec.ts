import {
  basename,
  formatAgo,
  formatBytes,
  formatDuration,
  formatIn,
  formatMetric,
  formatTime,
  formatValue,
  runLabel,
  runSeconds,
  shortId,
  shortSha,
  statusLabel
} from '../format';
import { RUN_STATUSES } from '../status';
import { summary } from './runs';
import { trans } from './trans';

/** The number formatters, by name, for the table below. */
const NUMBER_FORMATS = { formatDuration, formatMetric };

describe('number formats', () => {
  it.each<[keyof typeof NUMBER_FORMATS, number | null | undefined, string]>([
    // Durations: tenths under 10 s, whole seconds under a minute...
    ['formatDuration', 1.23, '1.2 s'],
    ['formatDuration', 42.4, '42 s'],
    // ...then minutes and seconds, then hours and minutes...
    ['formatDuration', 184, '3 min 04 s'],
    ['formatDuration', 7500, '2 h 05 min'],
    // ...empty for no or a non-finite value; negatives are clamped.
    ['formatDuration', null, ''],
    ['formatDuration', undefined, ''],
    ['formatDuration', Infinity, ''],
    ['formatDuration', -5, '0.0 s'],
    // Metrics keep 4 significant digits and whole numbers as they are...
    ['formatMetric', 0.123456, '0.1235'],
    ['formatMetric', 12, '12'],
    ['formatMetric', 0, '0'],
    // ...use exponent notation for very large or small magnitudes...
    ['formatMetric', 1234567, '1.23e+6'],
    ['formatMetric', 0.0001234, '1.23e-4'],
    // ...say NaN for null and keep infinities.
    ['formatMetric', null, 'NaN'],
    ['formatMetric', undefined, 'NaN'],
    ['formatMetric', Infinity, 'Infinity']
  ])('%s(%p) is %p', (format, value, expected) => {
    expect(NUMBER_FORMATS[format](value)).toBe(expected);
  });
});

describe('small helpers', () => {
  it('formats bytes', () => {
    expect(formatBytes(512)).toBe('512 B');
    expect(formatBytes(1536)).toBe('1.5 kB');
    expect(formatBytes(50 * 1024 * 1024)).toBe('50 MB');
  });

  it('shortens shas and ids, and takes a path’s last name', () => {
    expect(shortSha('0123456789abcdef')).toBe('0123456789');
    expect(shortSha(null)).toBe('');
    expect(shortId('abcdef0123456789')).toBe('abcdef01');
    expect(basename('a/b/train.ipynb')).toBe('train.ipynb');
    expect(basename('train.ipynb')).toBe('train.ipynb');
  });

  it('labels a run by notebook and short id', () => {
    expect(runLabel({ id: 'abcdef0123', notebook: 'x/train.ipynb' })).toBe(
      'train.ipynb · abcdef01'
    );
  });

  it('writes values as JSON', () => {
    expect(formatValue(undefined)).toBe('');
    expect(formatValue([1, 2])).toBe('[1,2]');
    expect(formatValue('a')).toBe('"a"');
  });

  it('labels every status', () => {
    for (const status of RUN_STATUSES) {
      expect(statusLabel(status, trans)).toBeTruthy();
    }
    expect(statusLabel('timed_out', trans)).toBe('timed out');
  });

  it('keeps a time it cannot read as it is', () => {
    expect(formatTime('not a date')).toBe('not a date');
    expect(formatTime(null)).toBe('');
  });
});

describe('relative times', () => {
  const now = Date.parse('2026-01-01T12:00:00Z');

  it('formatAgo: just now, minutes, hours', () => {
    expect(formatAgo('2026-01-01T11:59:50Z', trans, now)).toBe('just now');
    expect(formatAgo('2026-01-01T11:50:00Z', trans, now)).toBe('10 min ago');
    expect(formatAgo('2026-01-01T09:00:00Z', trans, now)).toBe('3 h ago');
  });

  it('formatIn: due now, seconds, minutes, hours and minutes', () => {
    expect(formatIn('2026-01-01T12:00:00Z', trans, now)).toBe('due now');
    expect(formatIn('2026-01-01T12:00:04Z', trans, now)).toBe('in 4 s');
    expect(formatIn('2026-01-01T12:12:00Z', trans, now)).toBe('in 12 min');
    expect(formatIn('2026-01-01T15:05:00Z', trans, now)).toBe('in 3 h 05 min');
    expect(formatIn('nonsense', trans, now)).toBe('nonsense');
  });

  it('runSeconds: elapsed while active, duration once finished', () => {
    const running = summary({
      status: 'running',
      started_at: '2026-01-01T11:59:00Z'
    });
    expect(runSeconds(running, now)).toBe(60);
    const done = summary({
      status: 'succeeded',
      started_at: '2026-01-01T11:00:00Z',
      finished_at: '2026-01-01T11:00:30Z'
    });
    expect(runSeconds(done, now)).toBe(30);
    expect(runSeconds(summary({ status: 'queued' }), now)).toBeNull();
  });
});
