import { pipelineTriggerRequest } from '../pipelines/automateRequest';
import { initialTriggerState } from '../triggerForm';

describe('pipelineTriggerRequest', () => {
  it('makes an on-commit trigger of the pipeline file', () => {
    const state = {
      ...initialTriggerState(),
      enabled: true,
      branch: ' release ',
      paths: 'src, data.dvc',
      policy: 'each' as const,
      name: ''
    };
    const request = pipelineTriggerRequest('flow/retrain.yaml', state);
    expect(request.pipeline).toBe('flow/retrain.yaml');
    expect(request.notebook).toBeUndefined();
    expect(request.on_commit).toBe('release');
    expect(request.paths).toEqual(['src', 'data.dvc']);
    expect(request.policy).toBe('each');
    expect(request.name).toBeUndefined();
    expect(
      pipelineTriggerRequest('p.yaml', { ...state, name: ' x ' }).name
    ).toBe('x');
  });
});
