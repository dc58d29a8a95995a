import {
  DEFAULT_NOTIFY_SETTINGS,
  finishNotice,
  FinishWatch,
  INotifySettings,
  MAX_MINE,
  notifySettings
} from '../finishNotices';
import { summary } from './runs';
import { trans } from './trans';

const MINE: INotifySettings = { enabled: true, scope: 'mine' };
const ALL: INotifySettings = { enabled: true, scope: 'all' };

/** The ids announced, in order, for a sequence of summaries. */
function announced(
  watch: FinishWatch,
  settings: INotifySettings,
  steps: Array<[string, ReturnType<typeof summary>['status']]>
): string[] {
  return steps
    .filter(([id, status]) => watch.observe(summary({ id, status }), settings))
    .map(([id, status]) => `${id}:${status}`);
}

describe('FinishWatch', () => {
  it('announces a run seen going from active to each end but cancelled', () => {
    const watch = new FinishWatch();
    const steps: Array<[string, ReturnType<typeof summary>['status']]> = [];
    for (const [id, end] of [
      ['a', 'succeeded'],
      ['b', 'failed'],
      ['c', 'timed_out'],
      ['d', 'lost'],
      ['e', 'cancelled']
    ] as const) {
      steps.push([id, 'queued'], [id, 'running'], [id, end]);
    }
    expect(announced(watch, ALL, steps)).toEqual([
      'a:succeeded',
      'b:failed',
      'c:timed_out',
      'd:lost'
    ]);
  });

  it('never announces a run already ended when first seen (a page load)', () => {
    const watch = new FinishWatch(['a']);
    expect(
      announced(watch, ALL, [
        ['a', 'succeeded'],
        ['b', 'failed'],
        ['a', 'succeeded']
      ])
    ).toEqual([]);
  });

  it('announces once, also when a reconnect replays the ended run', () => {
    const watch = new FinishWatch();
    expect(
      announced(watch, ALL, [
        ['a', 'running'],
        ['a', 'succeeded'],
        ['a', 'succeeded'],
        ['a', 'running'], // a late, older summary after the replay
        ['a', 'succeeded']
      ])
    ).toEqual(['a:succeeded']);
  });

  it('with the scope "mine", announces only runs submitted from this browser', () => {
    const watch = new FinishWatch(['old']); // submitted before a reload
    watch.addMine('new');
    expect(
      announced(watch, MINE, [
        ['old', 'running'],
        ['new', 'queued'],
        ['other', 'running'],
        ['other', 'failed'],
        ['new', 'failed'],
        ['old', 'succeeded']
      ])
    ).toEqual(['new:failed', 'old:succeeded']);
  });

  it('announces a run submitted now that ends before it is seen active', () => {
    const watch = new FinishWatch();
    watch.addMine('fast');
    expect(announced(watch, MINE, [['fast', 'succeeded']])).toEqual([
      'fast:succeeded'
    ]);
  });

  it('announces nothing while off, and not later what ended meanwhile', () => {
    const watch = new FinishWatch();
    const off = { ...ALL, enabled: false };
    expect(
      announced(watch, off, [
        ['a', 'running'],
        ['a', 'succeeded']
      ])
    ).toEqual([]);
    expect(announced(watch, ALL, [['a', 'succeeded']])).toEqual([]);
  });

  it('remembers at most MAX_MINE runs, the newest', () => {
    const watch = new FinishWatch();
    for (let i = 0; i < MAX_MINE + 5; i++) {
      watch.addMine(`r${i}`);
    }
    watch.addMine('r10'); // again: moves to the end
    expect(watch.mine).toHaveLength(MAX_MINE);
    expect(watch.mine[watch.mine.length - 1]).toBe('r10');
    expect(watch.mine).not.toContain('r0');
  });
});

describe('notifySettings', () => {
  it('reads the settings, with defaults for missing or odd values', () => {
    expect(notifySettings({})).toEqual(DEFAULT_NOTIFY_SETTINGS);
    expect(
      notifySettings({ notifications: false, notificationScope: 'all' })
    ).toEqual({ enabled: false, scope: 'all' });
    expect(
      notifySettings({ notifications: 'yes', notificationScope: 'x' })
    ).toEqual(DEFAULT_NOTIFY_SETTINGS);
  });
});

describe('finishNotice', () => {
  it('names the run and, for failures, says why', () => {
    const ok = finishNotice(
      summary({ id: '0123456789ab', status: 'succeeded', duration_s: 75 }),
      trans
    );
    expect(ok.type).toBe('success');
    expect(ok.message).toContain('train.ipynb · 01234567');
    expect(ok.message).toContain('succeeded in');
    const failed = finishNotice(
      summary({
        status: 'failed',
        status_reason: 'cell 3 raised ValueError: bad lr'
      }),
      trans
    );
    expect(failed).toEqual({
      type: 'error',
      message:
        'Run train.ipynb · run-0 failed: cell 3 raised ValueError: bad lr'
    });
    expect(finishNotice(summary({ status: 'timed_out' }), trans).type).toBe(
      'warning'
    );
    expect(
      finishNotice(
        summary({ status: 'lost', status_reason: 'no heartbeat' }),
        trans
      ).message
    ).toBe('Run train.ipynb · run-0 was lost: no heartbeat');
  });
});
