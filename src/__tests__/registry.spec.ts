import type { IModelVersion, IRegistryEvent } from '../models/api';
import {
  aliasText,
  barHeights,
  describeEvent,
  metricColumns,
  parseRequirementLines,
  pendingPromotions
} from '../models/logic';

function event(partial: Partial<IRegistryEvent>): IRegistryEvent {
  return {
    id: 1,
    model: 'churn',
    at: '2026-12-02T00:00:00+00:00',
    actor: 'ana',
    action: 'register',
    version: null,
    alias: null,
    previous_version: null,
    promotion_id: null,
    reason: null,
    details: null,
    ...partial
  };
}

describe('registry logic', () => {
  it('shows the metrics the runs logged, not system samples', () => {
    const versions = [
      { metrics: { 'eval/loss': 0.3, 'system/cpu_percent': 9 } },
      { metrics: { accuracy: 0.9 } }
    ] as unknown as IModelVersion[];
    expect(metricColumns(versions)).toEqual(['accuracy', 'eval/loss']);
  });

  it('writes aliases and events for people', () => {
    expect(aliasText({})).toBe('-');
    expect(aliasText({ production: 3, staging: 1 })).toBe(
      '@production=3, @staging=1'
    );
    expect(
      describeEvent(
        event({
          action: 'alias_set',
          version: 3,
          alias: 'production',
          previous_version: 2,
          reason: 'validated'
        })
      )
    ).toBe('ana alias_set v3 @production (was v2): validated');
  });

  it('finds the promotions no outcome has ended, newest first', () => {
    const events = [
      event({ id: 1, action: 'promotion_started' }),
      event({ id: 2, action: 'alias_set', promotion_id: 1 }),
      event({ id: 3, action: 'promotion_started' }),
      event({ id: 4, action: 'promotion_started' }),
      event({ id: 5, action: 'promotion_refused', promotion_id: 4 })
    ];
    expect(pendingPromotions(events).map(e => e.id)).toEqual([3]);
  });

  it('scales bars to the largest value, missing ones flat', () => {
    expect(barHeights([1, null, 0.5], 60)).toEqual([60, 0, 30]);
    expect(barHeights([0, 0], 60)).toEqual([2, 2]);
  });

  it('splits requirements on lines and semicolons', () => {
    expect(
      parseRequirementLines('eval/loss <= baseline; latency_ms < 50\n\n')
    ).toEqual(['eval/loss <= baseline', 'latency_ms < 50']);
  });
});
