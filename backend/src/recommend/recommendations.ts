/**
 * Recommendations as they are kept: their ids, the forecast recommendation the evaluation loop records
 * (with what it was based on), the emergency one an alert raises (actuate/service.ts raiseEmergency, from
 * the alert webhook), and the scale-down memory the loop's decisions read.
 */
import { randomUUID } from 'node:crypto';
import { ms } from '../contract/time';
import type { ForecastBasis, RecommendationKind, Store, StoredRecommendation } from '../store/store';
import type { ForecastPoint, Recommendation } from './replicas';

export const newRecommendationId = () => `rec-${randomUUID()}`;

export type { ForecastBasis };

/**
 * What a forecast recommendation was based on (StoredRecommendation.forecast, store/types.ts), as the API
 * serves it: times in milliseconds.
 */
export function forecastBasis(
  rec: Recommendation,
  f: { quantile: string; utilization: number; model: string; forecast: readonly ForecastPoint[] }
): ForecastBasis {
  return {
    quantile: f.quantile,
    demand: rec.demand,
    demandAt: ms(rec.demandAt),
    leadTime: rec.leadTime,
    peakFactor: rec.peakFactor,
    utilization: f.utilization,
    desiredReplicas: rec.desiredReplicas,
    limitedBy: rec.limitedBy,
    model: f.model,
    points: f.forecast.map(([t, v, lo, hi]) => [ms(t), v, lo, hi]),
  };
}

/**
 * Records an evaluation's decision: when it asks for a change, a pending forecast recommendation (older
 * pending forecast ones superseded), unless the same advice is already pending, whose id is kept so an
 * Apply in progress still finds it; when it does not, the pending forecast recommendations are
 * superseded. Returns the pending recommendation's id (none without a change) and whether it is new.
 */
export async function recordForecastRecommendation(
  store: Store,
  d: {
    target: string;
    now: number;
    /** Seconds the recommendation stays pending. */
    ttl: number;
    currentReplicas: number;
    rec: Recommendation;
    basis: ForecastBasis;
  }
): Promise<{ id?: string; added: boolean }> {
  if (!d.rec.change) {
    await store.supersedePending(d.target, ['forecast'], d.now);
    return { added: false };
  }
  const pending = await store.pendingRecommendation(d.target, 'forecast');
  if (
    pending &&
    pending.recommendedReplicas === d.rec.recommendedReplicas &&
    pending.currentReplicas === d.currentReplicas
  ) {
    return { id: pending.id, added: false };
  }
  const id = newRecommendationId();
  await store.addRecommendation(
    {
      id,
      target: d.target,
      kind: 'forecast',
      createdAt: d.now,
      expiresAt: d.now + d.ttl,
      currentReplicas: d.currentReplicas,
      recommendedReplicas: d.rec.recommendedReplicas,
      reason: d.rec.reason,
      forecast: d.basis,
      status: 'pending',
      statusAt: d.now,
      origin: null,
    },
    ['forecast']
  );
  return { id, added: true };
}

/**
 * Records an alert's emergency recommendation (every pending recommendation of the target superseded):
 * `origin` is the alert's fingerprint.
 */
export async function recordEmergencyRecommendation(
  store: Store,
  d: {
    target: string;
    now: number;
    ttl: number;
    currentReplicas: number;
    recommendedReplicas: number;
    reason: string;
    origin: string;
  }
): Promise<StoredRecommendation> {
  const rec: StoredRecommendation = {
    id: newRecommendationId(),
    target: d.target,
    kind: 'emergency',
    createdAt: d.now,
    expiresAt: d.now + d.ttl,
    currentReplicas: d.currentReplicas,
    recommendedReplicas: d.recommendedReplicas,
    reason: d.reason,
    forecast: null,
    status: 'pending',
    statusAt: d.now,
    origin: d.origin,
  };
  const supersedes: RecommendationKind[] = ['forecast', 'emergency'];
  await store.addRecommendation(rec, supersedes);
  return rec;
}

/**
 * The desired counts of a target's recent evaluations, which its scale-down stabilisation holds a
 * decision up to (recommendReplicas: never below the highest count wanted within the window, HPA's rule).
 *
 * One kind of count: Recommendation.desiredReplicas, the count the demand asks for (within min/max),
 * before tolerance, stabilisation and step limits, as HPA keeps its unstabilised recommendations. A count
 * after those limits would feed the stabilisation its own output: a held count, remembered, holds the next
 * decision, which is remembered again, and a scale-down would wait as long as the load stays low instead
 * of one window.
 *
 * Every evaluation is remembered in memory. After a start (or a new term as leader) the memory is what the
 * store kept: the desiredReplicas of the forecast recommendations recorded within the window (the
 * evaluations that asked for a change; one that did not leaves no row, so it is not remembered across a
 * restart).
 */
export class ScaleDownMemory {
  private readonly recent = new Map<string, Array<{ at: number; replicas: number }>>();

  /**
   * Replaces what is remembered of each target with what the store kept from `now − window` on.
   * `perWindow` bounds the rows read per target: more than the evaluations a window holds.
   */
  async seed(
    store: Store,
    targets: ReadonlyArray<{ name: string; scaleDownStabilization: number }>,
    now: number,
    perWindow: (window: number) => number
  ): Promise<void> {
    for (const t of targets) {
      const since = now - t.scaleDownStabilization;
      const rows = await store.listRecommendations({
        target: t.name,
        limit: perWindow(t.scaleDownStabilization),
      });
      const kept: Array<{ at: number; replicas: number }> = [];
      for (const r of rows) {
        if (r.kind !== 'forecast' || r.createdAt < since) continue;
        const desired = r.forecast?.desiredReplicas;
        if (typeof desired === 'number' && Number.isFinite(desired))
          kept.push({ at: r.createdAt, replicas: desired });
      }
      this.recent.set(
        t.name,
        kept.sort((a, b) => a.at - b.at)
      );
    }
  }

  /** The counts remembered for a target within its window before `now` (older ones are forgotten). */
  within(target: string, window: number, now: number): Array<{ at: number; replicas: number }> {
    const list = (this.recent.get(target) ?? []).filter((r) => r.at >= now - window);
    this.recent.set(target, list);
    return list;
  }

  /** Remembers an evaluation's desired count (Recommendation.desiredReplicas). */
  remember(target: string, at: number, desiredReplicas: number): void {
    const list = this.recent.get(target);
    if (list) list.push({ at, replicas: desiredReplicas });
    else this.recent.set(target, [{ at, replicas: desiredReplicas }]);
  }
}
