import type { IKernels, INotebookParameters } from '../api';
import {
  checkForm,
  describeKernelCuda,
  hasLiteralDefault,
  initialField,
  initialRunForm,
  IRunFormState,
  kernelCudaState,
  parseTags,
  pickKernel,
  readField,
  requestedGpus,
  RUN_FIELDS
} from '../runForm';
import { LR_PARAM, param } from './parameters';
import { trans } from './trans';

const field = (text: string) => ({ text, checked: false, isNone: false });

describe('initialField', () => {
  it('writes the default as the input text, by type', () => {
    expect(initialField(param({ type_name: 'int', default: 3 })).text).toBe(
      '3'
    );
    expect(
      initialField(param({ type_name: 'str', default: 'baseline' })).text
    ).toBe('baseline');
    expect(
      initialField(param({ type_name: 'list', default: [32, 16] })).text
    ).toBe('[32,16]');
    expect(
      initialField(param({ type_name: 'bool', default: true })).checked
    ).toBe(true);
  });

  it('leaves an expression default empty (the placeholder shows it)', () => {
    const p = param({ default: null, default_source: 'compute()' });
    expect(hasLiteralDefault(p)).toBe(false);
    expect(initialField(p).text).toBe('');
  });

  it('starts a nullable None default as None', () => {
    const p = param({ default: null, default_source: 'None', nullable: true });
    expect(initialField(p).isNone).toBe(true);
  });
});

describe('readField', () => {
  it('reads integers and refuses other text', () => {
    const p = param({ type_name: 'int' });
    expect(readField(p, field(' 7 '), trans)).toEqual({ value: 7 });
    expect(readField(p, field('three'), trans).error).toContain('integer');
    expect(readField(p, field('1.5'), trans).error).toContain('integer');
    expect(readField(p, field('99999999999999999999'), trans).error).toContain(
      'too large'
    );
  });

  it('reads floats, exponents included', () => {
    const p = param({ type_name: 'float', default: 0.1 });
    expect(readField(p, field('1e-3'), trans)).toEqual({ value: 0.001 });
    expect(readField(p, field('abc'), trans).error).toContain('number');
  });

  it('reads JSON for lists and dicts and checks their kind', () => {
    const list = param({ type_name: 'list', default: [] });
    expect(readField(list, field('[1, 2]'), trans)).toEqual({ value: [1, 2] });
    expect(readField(list, field('[1, 2'), trans).error).toContain('JSON');
    expect(readField(list, field('{}'), trans).error).toContain('list');
    const dict = param({ type_name: 'dict', default: {} });
    expect(readField(dict, field('[]'), trans).error).toContain('object');
    expect(readField(dict, field('{"a": 1}'), trans)).toEqual({
      value: { a: 1 }
    });
  });

  it('keeps strings as typed, bools as checked, None when chosen', () => {
    expect(readField(param({ type_name: 'str' }), field(' a '), trans)).toEqual(
      { value: ' a ' }
    );
    expect(
      readField(
        param({ type_name: 'bool' }),
        { text: '', checked: true, isNone: false },
        trans
      )
    ).toEqual({ value: true });
    expect(
      readField(
        param({ nullable: true }),
        { text: '5', checked: false, isNone: true },
        trans
      )
    ).toEqual({ value: null });
  });

  it('asks for a value when empty, unless the default is an expression', () => {
    expect(readField(param({}), field(''), trans).error).toBe(
      'Enter an integer.'
    );
    expect(
      readField(
        param({ default: null, default_source: 'f()' }),
        field(''),
        trans
      )
    ).toEqual({});
  });
});

const INFO: INotebookParameters = {
  path: 'train.ipynb',
  kernel: 'python3',
  has_parameters_cell: true,
  parameters: [
    LR_PARAM,
    param({ name: 'epochs', type_name: 'int', default: 3, default_source: '3' })
  ]
};

function form(patch: Partial<IRunFormState> = {}): IRunFormState {
  return { ...initialRunForm(INFO, 'python3'), ...patch };
}

describe('checkForm', () => {
  it('sends only the parameters that differ from the defaults', () => {
    const state = form();
    state.fields.epochs = field('7');
    const { request, errors } = checkForm('train.ipynb', INFO, state, trans);
    expect(errors).toEqual({});
    expect(request).toEqual({
      notebook: 'train.ipynb',
      parameters: { epochs: 7 },
      kernel: 'python3',
      gpus: 0,
      timeout: null,
      tags: [],
      seed: null,
      commit: false
    });
  });

  it('collects every problem, keyed by parameter or field', () => {
    const state = form({
      kernel: '',
      gpus: '-1',
      timeout: '0',
      seed: 'x',
      tags: 'a,' + 'b'.repeat(256)
    });
    state.fields.lr = field('fast');
    const { request, errors } = checkForm('train.ipynb', INFO, state, trans);
    expect(request).toBeNull();
    expect(Object.keys(errors).sort()).toEqual(
      [
        'lr',
        RUN_FIELDS.kernel,
        RUN_FIELDS.gpus,
        RUN_FIELDS.timeout,
        RUN_FIELDS.seed,
        RUN_FIELDS.tags
      ].sort()
    );
  });

  it('reads GPUs, timeout, seed, tags and the commit message', () => {
    const state = form({
      gpus: '2',
      timeout: '90.5',
      seed: '42',
      tags: ' a, b ,,',
      commit: true,
      commitMessage: '  try it  '
    });
    const { request } = checkForm('train.ipynb', INFO, state, trans);
    expect(request).toMatchObject({
      gpus: 2,
      timeout: 90.5,
      seed: 42,
      tags: ['a', 'b'],
      commit: true,
      commit_message: 'try it'
    });
    expect(requestedGpus(state)).toBe(2);
    expect(parseTags(' a, b ,,')).toEqual(['a', 'b']);
  });
});

describe('kernels', () => {
  const cuda = {
    cuda: true,
    devices: [{ index: 0, name: 'H100', total_memory: 1, capability: '9.0' }],
    torch: '2.5',
    cuda_version: '12.4'
  };
  const kernels: IKernels = {
    default_kernel: 'python3',
    gpus: [],
    kernels: [
      {
        name: 'python3',
        display_name: 'Python 3',
        language: 'python',
        cuda: null
      },
      { name: 'torch', display_name: 'Torch', language: 'python', cuda }
    ]
  };

  it('preselects the setting, else the notebook’s kernel, else the default', () => {
    expect(pickKernel(kernels, 'python3', 'torch')).toBe('torch');
    expect(pickKernel(kernels, 'torch', '')).toBe('torch');
    expect(pickKernel(kernels, 'missing', 'gone')).toBe('python3');
  });

  it('tells what torch in the kernel says about CUDA', () => {
    expect(kernelCudaState(kernels.kernels[0])).toBe('unknown');
    expect(kernelCudaState(kernels.kernels[1])).toBe('cuda');
    expect(describeKernelCuda(cuda, trans)).toBe(
      'PyTorch 2.5 with CUDA 12.4 sees 1 device: H100'
    );
    expect(describeKernelCuda({ ...cuda, torch: null }, trans)).toContain(
      'not installed'
    );
  });
});
