import type { ICronPreview, MLOpsClient } from '../api';
import { CronCheck, CronVerdict } from '../cronCheck';
import { SerialTask } from '../modelBase';
import { RunsModel } from '../model';
import { summary } from './runs';

const tick = (ms = 0) => new Promise(resolve => setTimeout(resolve, ms));

describe('SerialTask', () => {
  it('runs once more after the running one when called meanwhile', async () => {
    let runs = 0;
    let release: () => void = () => undefined;
    const task = new SerialTask(async () => {
      runs++;
      if (runs === 1) {
        await new Promise<void>(resolve => (release = resolve));
      }
    });
    const first = task.run();
    const second = task.run();
    const third = task.run();
    expect(second).toBe(third);
    release();
    await Promise.all([first, second, third]);
    expect(runs).toBe(2);
  });
});

describe('CronCheck', () => {
  it('asks the server once per expression and zone, and keeps the latest answer', async () => {
    const asked: string[] = [];
    let changes = 0;
    const check = new CronCheck({
      delay: 0,
      preview: async (expression, timezone): Promise<ICronPreview> => {
        asked.push(`${expression}|${timezone ?? ''}`);
        return expression.startsWith('61')
          ? { valid: false, error: 'out of range' }
          : {
              valid: true,
              expression,
              timezone: timezone ?? 'UTC',
              next: ['t']
            };
      },
      onChange: () => changes++
    });
    expect(check.verdict('61 * * * *', 'UTC').state).toBe('pending');
    expect(check.verdict('61 * * * *', 'UTC').state).toBe('pending');
    await tick(20);
    expect(check.verdict('61 * * * *', 'UTC')).toEqual<CronVerdict>({
      state: 'invalid',
      error: 'out of range'
    });
    expect(check.verdict('0 3 * * *', '').state).toBe('pending');
    await tick(20);
    expect(check.verdict('0 3 * * *', '')).toEqual({
      state: 'valid',
      next: ['t']
    });
    expect(asked).toEqual(['61 * * * *|UTC', '0 3 * * *|']);
    expect(changes).toBe(2);
    check.dispose();
  });

  it('does not block when the server cannot be asked', async () => {
    const check = new CronCheck({
      delay: 0,
      preview: () => Promise.reject(new Error('404')),
      onChange: () => undefined
    });
    check.verdict('0 3 * * *', 'UTC');
    await tick(20);
    expect(check.verdict('0 3 * * *', 'UTC').state).toBe('unknown');
    check.dispose();
  });
});

describe('RunsModel', () => {
  const model = () => new RunsModel({ client: {} as MLOpsClient });

  it('inserts runs newest first and ignores a late, older summary', () => {
    const m = model();
    m.upsert(summary({ id: 'a', created_at: '2026-01-01T10:00:00Z' }));
    m.upsert(
      summary({
        id: 'b',
        created_at: '2026-01-01T11:00:00Z',
        status: 'running'
      })
    );
    expect(m.runs.map(r => r.id)).toEqual(['b', 'a']);
    m.upsert(
      summary({ id: 'b', created_at: '2026-01-01T11:00:00Z', status: 'queued' })
    );
    expect(m.getRun('b')?.status).toBe('running');
    m.dispose();
  });

  it('tells each change of a run, and forgets deleted ones', () => {
    const m = model();
    const changes: Array<string | null> = [];
    m.runChanged.connect((_, change) =>
      changes.push(change.run ? change.run.status : null)
    );
    m.upsert(summary({ id: 'a', status: 'running' }));
    m.setSelected('a', true);
    expect(m.selected).toEqual(['a']);
    m.remove('a');
    expect(m.runs).toEqual([]);
    expect(m.selected).toEqual([]);
    expect(changes).toEqual(['running', null]);
    m.dispose();
  });

  it('sorts only by a metric that is a column', async () => {
    const m = model();
    m.setSort({ key: 'loss', order: 'asc' });
    expect(m.sort.key).toBe('');
    await m.setMetricColumns(['loss']);
    m.setSort({ key: 'loss', order: 'asc' });
    expect(m.sort).toEqual({ key: 'loss', order: 'asc' });
    await m.setMetricColumns(['acc']);
    expect(m.sort.key).toBe('');
    m.dispose();
  });
});
