import type { ISubmitRequest } from '../api';
import {
  checkTriggerForm,
  initialTriggerState,
  parsePaths,
  TRIGGER_FIELDS,
  triggerRequest
} from '../triggerForm';
import { describeTrigger } from '../triggersApi';
import { trans } from './trans';

const run: ISubmitRequest = {
  notebook: 'train.ipynb',
  parameters: { lr: 0.1 },
  kernel: 'python3',
  gpus: 1,
  timeout: 60,
  tags: ['nightly']
} as ISubmitRequest;

describe('the automation section', () => {
  it('asks nothing while it is off', () => {
    expect(checkTriggerForm(initialTriggerState(), trans, true)).toEqual({});
  });

  it('needs a branch, and is not combined with a schedule', () => {
    const state = { ...initialTriggerState(), enabled: true, branch: ' ' };
    expect(
      checkTriggerForm(state, trans, false)[TRIGGER_FIELDS.branch]
    ).toMatch(/Enter the branch/);
    const both = { ...state, branch: 'main' };
    expect(checkTriggerForm(both, trans, true)[TRIGGER_FIELDS.branch]).toMatch(
      /not both/
    );
    expect(checkTriggerForm(both, trans, false)).toEqual({});
  });

  it('splits the paths on spaces and commas', () => {
    expect(parsePaths(' src/, data.dvc  notebooks ')).toEqual([
      'src/',
      'data.dvc',
      'notebooks'
    ]);
    expect(parsePaths('')).toEqual([]);
  });

  it('builds the trigger from the run form', () => {
    const request = triggerRequest(run, {
      enabled: true,
      branch: ' main ',
      paths: 'src',
      policy: 'each',
      name: ''
    });
    expect(request).toMatchObject({
      notebook: 'train.ipynb',
      on_commit: 'main',
      paths: ['src'],
      policy: 'each',
      parameters: { lr: 0.1 },
      kernel: 'python3',
      gpus: 1,
      timeout: 60,
      tags: ['nightly']
    });
    expect('name' in request).toBe(false);
  });

  it('describes what a trigger watches', () => {
    expect(
      describeTrigger({
        kind: 'commit',
        config: { branch: 'main', paths: ['src'] }
      })
    ).toBe('each new commit on main touching src');
    expect(
      describeTrigger({
        kind: 'metric',
        config: { condition: 'acc < 0.9', for: 3, stream: 'prod' }
      })
    ).toBe('acc < 0.9 (3×) on stream prod');
  });
});
