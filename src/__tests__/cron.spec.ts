import { describeCron, toCronstrueOrder } from '../cron';
import {
  checkScheduleForm,
  CUSTOM_PRESET,
  initialScheduleState,
  presetOf,
  SCHEDULE_FIELDS,
  scheduleRequest,
  timeZoneProblem
} from '../scheduleForm';
import { trans } from './trans';

describe('cron words', () => {
  it('moves the seconds field (last for croniter) first for cronstrue', () => {
    expect(toCronstrueOrder('* * * * * */10')).toBe('*/10 * * * * *');
    expect(toCronstrueOrder('0 3  * * *')).toBe('0 3 * * *');
    expect(toCronstrueOrder('0 0 1 1 * 30 2030')).toBe('30 0 0 1 1 * 2030');
    expect(toCronstrueOrder('* *')).toBeNull();
  });

  it('keeps the presets’ own phrases', () => {
    expect(describeCron('0 3 * * *', trans)).toBe('Every day at 03:00');
    expect(describeCron('0 * * * *', trans)).toBe('Every hour, on the hour');
    expect(describeCron('0 8 * * 1', trans)).toBe('Every Monday at 08:00');
    expect(describeCron('0 8 * * 7', trans)).toBe('Every Sunday at 08:00');
    expect(describeCron('30 2 * * 1-5', trans)).toBe(
      'At 02:30 on weekdays (Monday to Friday)'
    );
    expect(describeCron('@daily', trans)).toBe('Every day at 00:00');
  });

  it('describes the rest with cronstrue, in 24-hour time', () => {
    expect(describeCron('* * * * * */10', trans)).toBe('Every 10 seconds');
    expect(describeCron('*/15 9-17 * * *', trans)).toBe(
      'Every 15 minutes, between 09:00 and 17:59'
    );
    expect(describeCron('0 0 1 * *', trans)).toContain('day 1 of the month');
  });

  it('has no words for what it cannot read', () => {
    expect(describeCron('', trans)).toBeNull();
    expect(describeCron('not a cron', trans)).toBeNull();
    expect(describeCron('@sometimes', trans)).toBeNull();
  });
});

describe('the schedule form', () => {
  const on = { ...initialScheduleState(), enabled: true, timezone: 'UTC' };

  it('checks nothing while it is off', () => {
    expect(
      checkScheduleForm({ ...on, enabled: false, cron: '' }, trans)
    ).toEqual({});
  });

  it('shows the server’s refusal of the expression, and asks for one', () => {
    expect(
      checkScheduleForm(on, trans, {
        state: 'invalid',
        error: '[61 * * * *] is not acceptable, out of range'
      })[SCHEDULE_FIELDS.cron]
    ).toContain('out of range');
    expect(
      checkScheduleForm({ ...on, cron: ' ' }, trans)[SCHEDULE_FIELDS.cron]
    ).toContain('Enter a cron expression');
    expect(checkScheduleForm(on, trans, { state: 'valid', next: [] })).toEqual(
      {}
    );
  });

  it('checks the time zone and the name', () => {
    expect(timeZoneProblem('Europe/Berlin', trans)).toBeNull();
    expect(timeZoneProblem('Mars/Olympus_Mons', trans)).toContain(
      'Unknown time zone'
    );
    const errors = checkScheduleForm(
      { ...on, timezone: '', name: 'n'.repeat(256) },
      trans
    );
    expect(Object.keys(errors).sort()).toEqual(
      [SCHEDULE_FIELDS.timezone, SCHEDULE_FIELDS.name].sort()
    );
  });

  it('knows the presets by their expression', () => {
    expect(presetOf(' 0 * * * * ')).toBe('hourly');
    expect(presetOf('5 4 * * *')).toBe(CUSTOM_PRESET);
  });

  it('builds the schedule from the run request, without seed or commit', () => {
    const request = scheduleRequest(
      {
        notebook: 'train.ipynb',
        parameters: { lr: 0.1 },
        kernel: 'python3',
        gpus: 1,
        timeout: null,
        tags: ['nightly'],
        seed: 7,
        commit: true
      },
      { ...on, cron: ' 0 3 * * * ', branch: ' main ', name: '' }
    );
    expect(request).toEqual({
      notebook: 'train.ipynb',
      cron: '0 3 * * *',
      timezone: 'UTC',
      parameters: { lr: 0.1 },
      kernel: 'python3',
      gpus: 1,
      timeout: null,
      tags: ['nightly'],
      concurrency: 'skip',
      catchup: 'skip',
      branch: 'main'
    });
  });
});
