/**
 * The Kubernetes HorizontalPodAutoscaler (autoscaling/v2) for one CPU-utilisation metric, as the
 * kube-controller-manager runs it: the replica calculator (`hpaDesiredReplicas`, from
 * pkg/controller/podautoscaler/replica_calculator.go) and the controller's behaviour state machine
 * (`HpaController`, from horizontal.go: initial recommendation, min/max clamps, stabilisation windows,
 * scaling policies per period with `selectPolicy`). Behaviour only; no Kubernetes types.
 */

export type ScalingPolicy = { type: 'Pods' | 'Percent'; value: number; periodSeconds: number };

export interface ScalingRules {
  stabilizationWindowSeconds: number;
  selectPolicy: 'Max' | 'Min' | 'Disabled';
  policies: ScalingPolicy[];
}

export interface HpaBehavior {
  scaleUp: ScalingRules;
  scaleDown: ScalingRules;
}

/**
 * The rules the API server fills into a `spec.behavior` that is set but leaves them out (`behavior: {}`;
 * SetDefaults_HorizontalPodAutoscalerBehavior). We simulate that HPA: one with no `behavior` at all takes the
 * controller's older path (normalizeDesiredReplicas: scale-up to at most max(2 × current, 4), the highest
 * recommendation of the last 300 s, no scale-down rate limit), which we do not model.
 */
export const DEFAULT_BEHAVIOR: HpaBehavior = {
  scaleUp: {
    stabilizationWindowSeconds: 0,
    selectPolicy: 'Max',
    policies: [
      { type: 'Pods', value: 4, periodSeconds: 15 },
      { type: 'Percent', value: 100, periodSeconds: 15 },
    ],
  },
  scaleDown: {
    stabilizationWindowSeconds: 300,
    selectPolicy: 'Max',
    policies: [{ type: 'Percent', value: 100, periodSeconds: 15 }],
  },
};

/** kube-controller-manager flag defaults. */
export const HPA_DEFAULTS = {
  syncPeriod: 15,
  tolerance: 0.1,
  cpuInitializationPeriod: 300,
  initialReadinessDelay: 30,
};

export interface ReplicaCalculation {
  /** `scale.spec.replicas`: the pods the controller believes it has asked for. */
  currentReplicas: number;
  /** Target average utilisation as a fraction of the request (0.7 for 70 %). */
  targetUtilization: number;
  /** Utilisation (fraction of request) of every pod whose metric counts. */
  podUtilizations: readonly number[];
  /** Pods left out as unready / still initialising (Pending, not Ready, or a sample from before Ready). */
  ignoredPods: number;
  /** Running pods with no metric sample at all. */
  missingPods: number;
  tolerance?: number;
}

/**
 * Desired replicas for a resource-utilisation metric, or `null` when no pod has a usable metric (the
 * controller then reports FailedGetResourceMetric and leaves the scale alone).
 * - no ignored/missing pods: inside tolerance keep `currentReplicas`, else `ceil(ratio × pods with metrics)`;
 * - missing pods count as 100 % of request on a scale-down and 0 % on a scale-up;
 * - ignored (unready) pods count as 0 % on a scale-up and are left out on a scale-down;
 * - after that rebalancing, a result inside tolerance or one that flips the direction keeps the current count.
 */
export function hpaDesiredReplicas(c: ReplicaCalculation): number | null {
  const tolerance = c.tolerance ?? HPA_DEFAULTS.tolerance;
  const n = c.podUtilizations.length;
  if (n === 0) return null;
  let sum = 0;
  for (const u of c.podUtilizations) sum += u;
  const usageRatio = sum / n / c.targetUtilization;

  const rebalanceIgnored = c.ignoredPods > 0 && usageRatio > 1;
  if (!rebalanceIgnored && c.missingPods === 0) {
    if (Math.abs(1 - usageRatio) <= tolerance) return c.currentReplicas;
    return Math.ceil(usageRatio * n);
  }

  let newSum = sum;
  let count = n;
  // At exactly 100 % the resource path gives missing pods no sample at all.
  if (c.missingPods > 0 && usageRatio < 1) {
    newSum += c.missingPods * 1;
    count += c.missingPods;
  } else if (c.missingPods > 0 && usageRatio > 1) count += c.missingPods;
  if (rebalanceIgnored) count += c.ignoredPods;
  const newUsageRatio = newSum / count / c.targetUtilization;

  if (
    Math.abs(1 - newUsageRatio) <= tolerance ||
    (usageRatio < 1 && newUsageRatio > 1) ||
    (usageRatio > 1 && newUsageRatio < 1)
  ) {
    return c.currentReplicas;
  }
  const newReplicas = Math.ceil(newUsageRatio * count);
  if (
    (newUsageRatio < 1 && newReplicas > c.currentReplicas) ||
    (newUsageRatio > 1 && newReplicas < c.currentReplicas)
  ) {
    return c.currentReplicas;
  }
  return newReplicas;
}

interface Timestamped {
  t: number;
  value: number;
}

export interface HpaSpec {
  minReplicas: number;
  maxReplicas: number;
  behavior?: HpaBehavior;
}

/**
 * One HPA object's controller state across syncs: the recommendations kept for stabilisation and the
 * scale events kept for the rate policies. `reconcile` is one sync: it returns the new
 * `scale.spec.replicas` (equal to `currentReplicas` when it decides not to scale).
 */
export class HpaController {
  private recommendations: Timestamped[] = [];
  private scaleUpEvents: Timestamped[] = [];
  private scaleDownEvents: Timestamped[] = [];
  private readonly behavior: HpaBehavior;
  private readonly longestWindow: number;

  constructor(readonly spec: HpaSpec) {
    this.behavior = spec.behavior ?? DEFAULT_BEHAVIOR;
    this.longestWindow = Math.max(
      this.behavior.scaleUp.stabilizationWindowSeconds,
      this.behavior.scaleDown.stabilizationWindowSeconds
    );
  }

  /**
   * @param metricDesired `hpaDesiredReplicas` for this sync, or null when metrics were unavailable.
   * @param minReplicas overrides `spec.minReplicas` for this sync (how Prescaler raises the floor).
   */
  reconcile(
    now: number,
    currentReplicas: number,
    metricDesired: number | null,
    minReplicas = this.spec.minReplicas
  ): number {
    const maxReplicas = this.spec.maxReplicas;
    // recordInitialRecommendation: the first sync remembers the current size.
    if (this.recommendations.length === 0) this.recommendations.push({ t: now, value: currentReplicas });

    let desired: number;
    if (currentReplicas === 0 && minReplicas !== 0) return currentReplicas; // scaling disabled
    if (currentReplicas > maxReplicas) desired = maxReplicas;
    else if (currentReplicas < minReplicas) desired = minReplicas;
    else {
      if (metricDesired === null) return currentReplicas;
      const stabilized = this.stabilize(now, currentReplicas, metricDesired);
      desired = this.applyRate(now, currentReplicas, stabilized, minReplicas, maxReplicas);
    }
    if (desired !== currentReplicas) this.storeScaleEvent(now, currentReplicas, desired);
    return desired;
  }

  /**
   * stabilizeRecommendationWithBehaviors: the lowest recommendation inside the scale-up window and the
   * highest inside the scale-down window bound the result, and the current size is brought within them.
   * So a scale-down never lands above the current size, even when a higher recommendation from an earlier
   * rate-limited scale-up is still inside the 300 s window.
   */
  private stabilize(now: number, current: number, desired: number): number {
    const upCutoff = now - this.behavior.scaleUp.stabilizationWindowSeconds;
    const downCutoff = now - this.behavior.scaleDown.stabilizationWindowSeconds;
    let upRecommendation = desired;
    let downRecommendation = desired;
    for (const r of this.recommendations) {
      if (r.t > upCutoff) upRecommendation = Math.min(upRecommendation, r.value);
      if (r.t > downCutoff) downRecommendation = Math.max(downRecommendation, r.value);
    }
    const rec = Math.min(Math.max(current, upRecommendation), downRecommendation);
    // Keep only what any window can still use, then remember this sync's recommendation.
    const obsolete = now - this.longestWindow;
    this.recommendations = this.recommendations.filter((r) => r.t >= obsolete);
    this.recommendations.push({ t: now, value: desired });
    return rec;
  }

  private changeInPeriod(events: Timestamped[], now: number, period: number): number {
    let sum = 0;
    for (const e of events) if (e.t > now - period) sum += e.value;
    return sum;
  }

  private applyRate(
    now: number,
    current: number,
    desired: number,
    minReplicas: number,
    maxReplicas: number
  ): number {
    if (desired > current) {
      const rules = this.behavior.scaleUp;
      let limit: number;
      if (rules.selectPolicy === 'Disabled') limit = current;
      else {
        limit = rules.selectPolicy === 'Min' ? Infinity : 0;
        for (const p of rules.policies) {
          const start = current - this.changeInPeriod(this.scaleUpEvents, now, p.periodSeconds);
          const proposed = p.type === 'Pods' ? start + p.value : Math.ceil(start * (1 + p.value / 100));
          limit = rules.selectPolicy === 'Min' ? Math.min(limit, proposed) : Math.max(limit, proposed);
        }
      }
      if (limit < current) limit = current;
      return Math.min(desired, maxReplicas, limit);
    }
    if (desired < current) {
      const rules = this.behavior.scaleDown;
      let limit: number;
      if (rules.selectPolicy === 'Disabled') limit = current;
      else {
        limit = rules.selectPolicy === 'Min' ? -Infinity : Infinity;
        for (const p of rules.policies) {
          const start = current + this.changeInPeriod(this.scaleDownEvents, now, p.periodSeconds);
          // Go truncates the float to int32 here (no ceil on the way down).
          const proposed = p.type === 'Pods' ? start - p.value : Math.trunc(start * (1 - p.value / 100));
          limit = rules.selectPolicy === 'Min' ? Math.max(limit, proposed) : Math.min(limit, proposed);
        }
      }
      if (limit > current) limit = current;
      return Math.max(desired, minReplicas, limit);
    }
    return desired;
  }

  private storeScaleEvent(now: number, from: number, to: number): void {
    const up = to > from;
    const rules = up ? this.behavior.scaleUp : this.behavior.scaleDown;
    const longest = Math.max(0, ...rules.policies.map((p) => p.periodSeconds));
    const keep = (e: Timestamped) => e.t >= now - longest;
    if (up) {
      this.scaleUpEvents = this.scaleUpEvents.filter(keep);
      this.scaleUpEvents.push({ t: now, value: to - from });
    } else {
      this.scaleDownEvents = this.scaleDownEvents.filter(keep);
      this.scaleDownEvents.push({ t: now, value: from - to });
    }
  }
}
