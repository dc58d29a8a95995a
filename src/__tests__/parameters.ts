/** A notebook parameter for the tests; each test overrides what it is about. */
import type { IParameter } from '../api';

/** The parameters of a training notebook: `lr` (float) and `epochs` (int). */
export function trainParameters(): IParameter[] {
  return [
    LR_PARAM,
    param({ name: 'epochs', type_name: 'int', default: 3, default_source: '3' })
  ];
}

export function param(fields: Partial<IParameter>): IParameter {
  return {
    name: 'x',
    type_name: 'int',
    default: 1,
    default_source: '1',
    annotation: null,
    help: '',
    nullable: false,
    ...fields
  };
}

/** A float learning rate, 0.1 by default: the parameter most tests' notebooks have. */
export const LR_PARAM = param({
  name: 'lr',
  type_name: 'float',
  default: 0.1,
  default_source: '0.1'
});
