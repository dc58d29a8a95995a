/**
 * Pure logic of the Models views (tested in `src/__tests__/registry.spec.ts`).
 */
import type {
  IModelVersion,
  IPromotion,
  IRegistryEvent,
  IVerdict
} from './api';

/** Metric keys to show side by side: those the runs logged themselves. */
export function metricColumns(versions: IModelVersion[], max = 6): string[] {
  const keys = new Set<string>();
  for (const version of versions) {
    for (const key of Object.keys(version.metrics)) {
      if (!key.startsWith('system/')) {
        keys.add(key);
      }
    }
  }
  return [...keys].sort().slice(0, max);
}

/** `@production=3, @staging=1` (or `-`). */
export function aliasText(aliases: { [alias: string]: number }): string {
  const parts = Object.entries(aliases).map(([a, v]) => `@${a}=${v}`);
  return parts.length ? parts.join(', ') : '-';
}

/** The verdicts a promotion recorded (its `verdicts` are free-form JSON). */
export function verdictsOf(promotion: IPromotion): IVerdict[] {
  return promotion.verdicts as unknown as IVerdict[];
}

/** Whether the view must keep polling the promotion. */
export function isPending(promotion: IPromotion | null): boolean {
  return promotion?.state === 'pending';
}

/** Started promotions of a model that no outcome has ended yet (the newest first). */
export function pendingPromotions(events: IRegistryEvent[]): IRegistryEvent[] {
  const ended = new Set(
    events
      .filter(e => e.action === 'alias_set' || e.action === 'promotion_refused')
      .map(e => e.promotion_id)
  );
  return events
    .filter(e => e.action === 'promotion_started' && !ended.has(e.id))
    .reverse();
}

/** One line of the history: who did what, to which version and alias. */
export function describeEvent(event: IRegistryEvent): string {
  const version = event.version !== null ? ` v${event.version}` : '';
  const alias = event.alias ? ` @${event.alias}` : '';
  const from =
    event.previous_version !== null ? ` (was v${event.previous_version})` : '';
  const reason = event.reason ? `: ${event.reason}` : '';
  return `${event.actor || '?'} ${event.action}${version}${alias}${from}${reason}`;
}

/** Split typed requirements: one per line, or separated by `;`. */
export function parseRequirementLines(text: string): string[] {
  return text
    .split(/[\n;]/)
    .map(line => line.trim())
    .filter(line => line.length > 0);
}

/**
 * Bar heights (0..`height`) of values scaled to their largest magnitude; a
 * missing value is a bar of height 0, the smallest present one at least 2.
 */
export function barHeights(
  values: (number | null)[],
  height: number
): number[] {
  const present = values.filter((v): v is number => v !== null);
  const top = Math.max(...present.map(Math.abs), 0);
  return values.map(v =>
    v === null ? 0 : top === 0 ? 2 : Math.max(2, (Math.abs(v) / top) * height)
  );
}
