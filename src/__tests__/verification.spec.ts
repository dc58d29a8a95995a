import { figure } from '../inputDrift';
import {
  verdictLabel,
  reproduceButtons,
  VERIFY_OPTIONS
} from '../verification';
import { detail } from './runs';
import { trans } from './trans';

describe('verification', () => {
  it('names each verdict and a pending one', () => {
    expect(verdictLabel('identical', trans)).toBe('Identical');
    expect(verdictLabel('equivalent', trans)).toBe('Equivalent');
    expect(verdictLabel('differs', trans)).toBe('Differs');
    expect(verdictLabel(null, trans)).toMatch(/^Pending/);
  });

  it('reproduces with verify from its button, only for a snapshot', () => {
    const asked: Array<[string, unknown]> = [];
    const actions = {
      reproduce: async (id: string, options?: unknown) => {
        asked.push([id, options]);
      }
    };
    const [plain, button] = reproduceButtons(
      detail({ id: 'r1' }),
      null,
      actions,
      trans
    );
    expect(plain.label).toBe('Reproduce');
    expect(button.label).toBe('Reproduce and verify');
    expect(button.disabled).toBe(false);
    button.onClick();
    expect(asked).toEqual([['r1', VERIFY_OPTIONS]]);
    plain.onClick();
    expect(asked[1]).toEqual(['r1', undefined]);
    expect(VERIFY_OPTIONS).toEqual({ verify: true });
    const busy = reproduceButtons(
      detail({ id: 'r1' }),
      'reproduce',
      actions,
      trans
    );
    expect(busy.map(b => b.disabled)).toEqual([true, true]);
    const interactive = reproduceButtons(
      detail({ commit: '' }),
      null,
      actions,
      trans
    );
    expect(interactive[1].disabled).toBe(true);
  });

  it('prints drift figures with three decimals', () => {
    expect(figure(0.123456)).toBe('0.123');
    expect(figure(null)).toBe('—');
    expect(figure(undefined)).toBe('—');
  });
});
