/**
 * The Kubernetes HorizontalPodAutoscaler (autoscaling/v2) for one CPU-utilisation metric, as the
 * kube-controller-manager runs it: the replica calculator (`hpaDesiredReplicas`, from
 * pkg/controller/podautoscaler/replica_calculator.go) and the controller's state across syncs
 * (`HpaController`, from horizontal.go). One sync (`reconcileAutoscaler`), in the controller's order:
 * 1. recordInitialRecommendation: the first sync remembers the current size as a recommendation;
 * 2. `scale.spec.replicas` 0 with minReplicas ≠ 0: scaling disabled; above maxReplicas: maxReplicas; below
 *    minReplicas: minReplicas (no metrics, no rate limit);
 * 3. otherwise the metric's desired replicas (no metrics: leave the scale alone), normalised
 *    - with `spec.behavior` (normalizeDesiredReplicasWithBehaviors): stabilizeRecommendationWithBehaviors
 *      (the current size brought within the lowest recommendation of the scale-up window and the highest of
 *      the scale-down window), then convertDesiredReplicasWithBehaviorRate (calculateScaleUpLimitWithScalingRules
 *      / calculateScaleDownLimitWithBehaviors: per policy, the replicas at the period's start are the current
 *      ones minus the scale-ups plus the scale-downs inside the period; `selectPolicy` picks among them), then
 *      min/maxReplicas;
 *    - without it (normalizeDesiredReplicas): stabilizeRecommendation (the highest recommendation of the last
 *      `--horizontal-pod-autoscaler-downscale-stabilization`, 300 s), then convertDesiredReplicasWithRules
 *      (scale-up to at most calculateScaleUpLimit = max(2 × current, 4), no scale-down rate limit);
 * 4. storeScaleEvent on a rescale (with `spec.behavior` only).
 * Behaviour only; no Kubernetes types.
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
 * SetDefaults_HorizontalPodAutoscalerBehavior): the default HPA here. An HPA with no `behavior` at all takes
 * the controller's older path (`HpaSpec.behavior: null`, see `HpaController`).
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

/** kube-controller-manager flag defaults (`--horizontal-pod-autoscaler-*`). */
export const HPA_DEFAULTS = {
  syncPeriod: 15,
  tolerance: 0.1,
  cpuInitializationPeriod: 300,
  initialReadinessDelay: 30,
  /** `--horizontal-pod-autoscaler-downscale-stabilization`: the window of the path without `behavior`. */
  downscaleStabilization: 300,
};

/** horizontal.go `scaleUpLimitFactor` and `scaleUpLimitMinimum`: the path without `behavior`. */
export const SCALE_UP_LIMIT_FACTOR = 2;
export const SCALE_UP_LIMIT_MINIMUM = 4;

/** calculateScaleUpLimit: the most replicas one sync may scale to on the path without `behavior`. */
export function calculateScaleUpLimit(currentReplicas: number): number {
  return Math.trunc(Math.max(SCALE_UP_LIMIT_FACTOR * currentReplicas, SCALE_UP_LIMIT_MINIMUM));
}

export interface ReplicaCalculation {
  /** `scale.spec.replicas`: the pods the controller believes it has asked for. */
  currentReplicas: number;
  /** Target average utilisation as a fraction of the request (0.7 for 70 %; whole per cents, as in the spec). */
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
 * - the usage ratio is GetResourceUtilizationRatio's: the pods' average utilisation truncated to a whole
 *   per cent (`int32(metricsTotal × 100 / requestsTotal)`), over the target's whole per cent;
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
  // `averageUtilization` is an integer per cent in the HPA spec.
  const targetPercent = Math.max(1, Math.round(c.targetUtilization * 100));
  const ratio = (total: number, pods: number) => Math.floor((total * 100) / pods + 1e-9) / targetPercent;
  const usageRatio = ratio(sum, n);

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
  const newUsageRatio = ratio(newSum, count);

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

/** timestampedScaleEvent: replicas added (or removed) at `t`; `outdated` once older than the longest period. */
interface ScaleEvent extends Timestamped {
  outdated: boolean;
}

export interface HpaSpec {
  minReplicas: number;
  maxReplicas: number;
  /**
   * `spec.behavior`: absent = the API server's defaults (`DEFAULT_BEHAVIOR`); `null` = an HPA with no
   * `behavior`, which the controller normalises on its older path (normalizeDesiredReplicas).
   */
  behavior?: HpaBehavior | null;
  /** `--horizontal-pod-autoscaler-downscale-stabilization`, seconds (the path without `behavior` only). */
  downscaleStabilization?: number;
}

/**
 * One HPA object's controller state across syncs: the recommendations kept for stabilisation and the
 * scale events kept for the rate policies. `reconcile` is one sync: it returns the new
 * `scale.spec.replicas` (equal to `currentReplicas` when it decides not to scale).
 */
export class HpaController {
  private recommendations: Timestamped[] = [];
  private scaleUpEvents: ScaleEvent[] = [];
  private scaleDownEvents: ScaleEvent[] = [];
  private readonly behavior: HpaBehavior | null;
  private readonly downscaleStabilization: number;
  private readonly longestWindow: number;

  constructor(readonly spec: HpaSpec) {
    this.behavior = spec.behavior === undefined ? DEFAULT_BEHAVIOR : spec.behavior;
    this.downscaleStabilization = spec.downscaleStabilization ?? HPA_DEFAULTS.downscaleStabilization;
    this.longestWindow = this.behavior
      ? Math.max(
          this.behavior.scaleUp.stabilizationWindowSeconds,
          this.behavior.scaleDown.stabilizationWindowSeconds
        )
      : this.downscaleStabilization;
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
      if (this.behavior) {
        const stabilized = this.stabilize(now, currentReplicas, metricDesired, this.behavior);
        desired = this.applyRate(now, currentReplicas, stabilized, minReplicas, maxReplicas, this.behavior);
      } else {
        desired = this.normalizeWithoutBehavior(
          now,
          currentReplicas,
          metricDesired,
          minReplicas,
          maxReplicas
        );
      }
    }
    if (desired !== currentReplicas && this.behavior)
      this.storeScaleEvent(now, currentReplicas, desired, this.behavior);
    return desired;
  }

  /**
   * normalizeDesiredReplicas (no `spec.behavior`): stabilizeRecommendation takes the highest recommendation
   * not older than the downscale stabilisation window (one exactly that old still counts: only those
   * `Before(cutoff)` are dropped), this sync's included; convertDesiredReplicasWithRules then clamps it to
   * [minReplicas, min(maxReplicas, calculateScaleUpLimit(current))]. Unlike the `behavior` path the current size
   * is not a bound, so a higher recommendation still inside the window scales *up* even when this sync's
   * metric asks for fewer pods than are running.
   */
  private normalizeWithoutBehavior(
    now: number,
    current: number,
    desired: number,
    minReplicas: number,
    maxReplicas: number
  ): number {
    const cutoff = now - this.downscaleStabilization;
    this.recommendations = this.recommendations.filter((r) => r.t >= cutoff);
    let stabilized = desired;
    for (const r of this.recommendations) stabilized = Math.max(stabilized, r.value);
    this.recommendations.push({ t: now, value: desired });

    const scaleUpLimit = calculateScaleUpLimit(current);
    const maximumAllowed = maxReplicas > scaleUpLimit ? scaleUpLimit : maxReplicas;
    if (stabilized < minReplicas) return minReplicas;
    if (stabilized > maximumAllowed) return maximumAllowed;
    return stabilized;
  }

  /**
   * stabilizeRecommendationWithBehaviors: the lowest recommendation inside the scale-up window and the
   * highest inside the scale-down window bound the result, and the current size is brought within them.
   * So a scale-down never lands above the current size, even when a higher recommendation from an earlier
   * rate-limited scale-up is still inside the 300 s window.
   */
  private stabilize(now: number, current: number, desired: number, behavior: HpaBehavior): number {
    const upCutoff = now - behavior.scaleUp.stabilizationWindowSeconds;
    const downCutoff = now - behavior.scaleDown.stabilizationWindowSeconds;
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

  /** getReplicasChangePerPeriod: replicas changed by events newer than `period` seconds (`After(cutoff)`). */
  private changeInPeriod(events: ScaleEvent[], now: number, period: number): number {
    let sum = 0;
    for (const e of events) if (e.t > now - period) sum += e.value;
    return sum;
  }

  /**
   * convertDesiredReplicasWithBehaviorRate. The replicas at the start of each policy's period count both
   * directions: `current − added + deleted` inside the period (calculateScaleUpLimitWithScalingRules and
   * calculateScaleDownLimitWithBehaviors alike), so a scale-down just before a scale-up does not shrink the
   * base the scale-up policy grows from, and a scale-up does not raise the base a scale-down cuts from.
   */
  private applyRate(
    now: number,
    current: number,
    desired: number,
    minReplicas: number,
    maxReplicas: number,
    behavior: HpaBehavior
  ): number {
    const periodStart = (period: number) =>
      current -
      this.changeInPeriod(this.scaleUpEvents, now, period) +
      this.changeInPeriod(this.scaleDownEvents, now, period);
    if (desired > current) {
      const rules = behavior.scaleUp;
      let limit: number;
      if (rules.selectPolicy === 'Disabled') limit = current;
      else {
        limit = rules.selectPolicy === 'Min' ? Infinity : -Infinity;
        for (const p of rules.policies) {
          const start = periodStart(p.periodSeconds);
          const proposed = p.type === 'Pods' ? start + p.value : Math.ceil(start * (1 + p.value / 100));
          limit = rules.selectPolicy === 'Min' ? Math.min(limit, proposed) : Math.max(limit, proposed);
        }
      }
      if (limit < current) limit = current;
      return Math.min(desired, maxReplicas, limit);
    }
    if (desired < current) {
      const rules = behavior.scaleDown;
      let limit: number;
      if (rules.selectPolicy === 'Disabled') limit = current;
      else {
        limit = rules.selectPolicy === 'Min' ? -Infinity : Infinity;
        for (const p of rules.policies) {
          const start = periodStart(p.periodSeconds);
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

  /**
   * storeScaleEvent: events older than the direction's longest policy period are marked outdated
   * (markScaleEventsOutdated) and the last outdated one is overwritten by the new event, else it is appended.
   * Outdated events are not dropped, so one can still count in the other direction's longer period.
   */
  private storeScaleEvent(now: number, from: number, to: number, behavior: HpaBehavior): void {
    const up = to > from;
    const rules = up ? behavior.scaleUp : behavior.scaleDown;
    const events = up ? this.scaleUpEvents : this.scaleDownEvents;
    const longest = Math.max(0, ...rules.policies.map((p) => p.periodSeconds));
    let oldIndex = -1;
    events.forEach((e, i) => {
      if (e.t < now - longest) e.outdated = true;
      if (e.outdated) oldIndex = i;
    });
    const event: ScaleEvent = { t: now, value: Math.abs(to - from), outdated: false };
    if (oldIndex >= 0) events[oldIndex] = event;
    else events.push(event);
  }
}
