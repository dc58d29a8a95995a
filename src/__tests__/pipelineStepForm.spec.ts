import type { INotebookParameters } from '../api';
import type { IPipelineFileStep } from '../pipelines/api';
import {
  checkPipelineForm,
  fieldKey,
  initialStepFields,
  IStepForm,
  stepForm
} from '../pipelines/stepForm';
import { stepProgress } from '../pipelines/pipelineRunsSection';
import { param, trainParameters } from './parameters';
import { trans } from './trans';

function info(...parameters: INotebookParameters['parameters']) {
  return {
    path: 'nb.ipynb',
    parameters,
    kernel: 'python3',
    has_parameters_cell: true
  } as INotebookParameters;
}

function fileStep(fields: Partial<IPipelineFileStep>): IPipelineFileStep {
  return {
    name: 'train',
    notebook: 'flow/train.ipynb',
    parameters: {},
    references: [],
    needs: [],
    ...fields
  };
}

const train = stepForm(
  fileStep({
    parameters: { lr: 0.5, points: '${steps.prepare.artifacts.points}' },
    references: ['points']
  }),
  info(
    param({
      name: 'points',
      type_name: 'str',
      default: '',
      default_source: '""'
    }),
    ...trainParameters()
  )
);
const prepare = stepForm(
  fileStep({
    name: 'prepare',
    notebook: 'flow/prepare.ipynb',
    parameters: { n: 5 }
  }),
  info(param({ name: 'n', type_name: 'int', default: 1, default_source: '1' }))
);

describe('stepForm', () => {
  it("takes the file's values as defaults over the notebook's", () => {
    const [lr, epochs] = train.parameters;
    expect(lr.default).toBe(0.5);
    expect(lr.default_source).toBe('0.5');
    expect(epochs.default).toBe(3); // not in the file: the notebook's
  });

  it('shows references, does not offer them as fields', () => {
    expect(train.parameters.map(p => p.name)).toEqual(['lr', 'epochs']);
    expect(train.references).toEqual({
      points: '${steps.prepare.artifacts.points}'
    });
  });

  it('a file null is a None default', () => {
    const step = stepForm(
      fileStep({ parameters: { limit: null } }),
      info(
        param({
          name: 'limit',
          type_name: 'int',
          nullable: true,
          default: 10,
          default_source: '10'
        })
      )
    );
    expect(step.parameters[0].default_source).toBe('None');
    expect(initialStepFields([step])[fieldKey('train', 'limit')].isNone).toBe(
      true
    );
  });

  it('keeps a step whose notebook could not be read, without fields', () => {
    const step = stepForm(fileStep({}), null, 'no such notebook');
    expect(step.parameters).toEqual([]);
    expect(step.error).toBe('no such notebook');
  });
});

describe('checkPipelineForm', () => {
  const steps: IStepForm[] = [prepare, train];

  it('sends nothing when every field is its default', () => {
    const check = checkPipelineForm(
      'flow/pipeline.yaml',
      steps,
      initialStepFields(steps),
      false,
      trans
    );
    expect(check.errors).toEqual({});
    expect(check.request).toEqual({
      pipeline: 'flow/pipeline.yaml',
      parameters: {},
      no_cache: false
    });
  });

  it('sends the changed values by step, typed', () => {
    const fields = initialStepFields(steps);
    fields[fieldKey('train', 'lr')] = { ...fields['train.lr'], text: '0.25' };
    fields[fieldKey('prepare', 'n')] = { ...fields['prepare.n'], text: '7' };
    const check = checkPipelineForm('p.yaml', steps, fields, true, trans);
    expect(check.request).toEqual({
      pipeline: 'p.yaml',
      parameters: { prepare: { n: 7 }, train: { lr: 0.25 } },
      no_cache: true
    });
  });

  it('a value typed back to the file default is not sent', () => {
    const fields = initialStepFields(steps);
    fields['train.lr'] = { ...fields['train.lr'], text: '0.50' };
    const check = checkPipelineForm('p.yaml', steps, fields, false, trans);
    expect(check.request?.parameters).toEqual({});
  });

  it('reports a bad value under its step and parameter, and no request', () => {
    const fields = initialStepFields(steps);
    fields['train.epochs'] = { ...fields['train.epochs'], text: 'many' };
    const check = checkPipelineForm('p.yaml', steps, fields, false, trans);
    expect(check.request).toBeNull();
    expect(Object.keys(check.errors)).toEqual(['train.epochs']);
  });
});

describe('stepProgress (the side panel row)', () => {
  it('says done of total, and the cached count when there is one', () => {
    const row = { steps_done: 3, steps_total: 4, steps_cached: 0 };
    expect(stepProgress(row, trans)).toBe('3/4 steps');
    expect(stepProgress({ ...row, steps_cached: 2 }, trans)).toBe(
      '3/4 steps · 2 cached'
    );
  });
});
