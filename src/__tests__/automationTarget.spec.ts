import { isPipelineRunId, openFired, targetKind } from '../automationTarget';

describe('automation targets', () => {
  it('reads the target, notebook when an older server sends none', () => {
    expect(targetKind({ target: 'pipeline' })).toBe('pipeline');
    expect(targetKind({ target: 'notebook' })).toBe('notebook');
    expect(targetKind({})).toBe('notebook');
    expect(targetKind({ target: null })).toBe('notebook');
  });

  it('opens a pipeline run id as a pipeline and any other id as a run', () => {
    const opened: string[] = [];
    const open = {
      run: (id: string) => opened.push(`run ${id}`),
      pipeline: (id: string) => opened.push(`pipeline ${id}`)
    };
    openFired('pl-0123abcd', open);
    openFired('0123abcd4567', open);
    expect(opened).toEqual(['pipeline pl-0123abcd', 'run 0123abcd4567']);
    expect(isPipelineRunId('plain')).toBe(false);
  });
});
