/** What every actuator does to a configured target: read its replicas, set them, and keep HPA floors time-boxed. */
import type { TargetConfig } from '../config';
import { PrescalerError } from '../errors';

/** A raised HPA minReplicas that Prescaler will put back when it expires. */
export interface Floor {
  replicas: number;
  originalMinReplicas: number;
  /** Unix seconds. */
  expiresAt: number;
}

export interface WorkloadState {
  /** Replicas the workload runs (is asked to run) now. */
  replicas: number;
  /** The number Prescaler writes: the scale subresource's spec.replicas, or the HPA's spec.minReplicas. */
  setpoint: number;
  /** HPA targets: the active floor, if Prescaler raised one. */
  floor?: Floor;
  /** HPA targets: the HPA's own bounds as they stand. */
  hpa?: { minReplicas: number; maxReplicas: number };
}

export interface ActResult {
  /** The setpoint found just before writing. */
  fromReplicas: number;
  /** What was done, in words, for the audit log. */
  detail: string;
}

export interface ApplyOptions {
  now: number;
  /** HPA targets: how long the raised floor holds, seconds. */
  floorTtl: number;
  /**
   * The replicas the recommendation was made at (WorkloadState.replicas then). When given, the write
   * is refused if the workload runs a different number now: the advice was computed for another state,
   * and writing it could even scale the opposite way (2 → 7 advised, someone scaled to 12: 12 → 7).
   */
  expectedReplicas?: number;
}

export interface Actuator {
  readonly kind: 'dry-run' | 'kubernetes';
  readonly dryRun: boolean;
  read(target: TargetConfig): Promise<WorkloadState>;
  /**
   * Sets the target to `replicas` (scale subresource) or raises its HPA floor to it. Throws
   * PrescalerError: not_found (workload gone), upstream_error (RBAC or API refusal), conflict (kept
   * conflicting, above the HPA's maxReplicas, or stale: see ApplyOptions.expectedReplicas),
   * upstream_timeout. An error with `uncertain: true`
   * means the write may have landed: the audit stays `unknown` until reconciled.
   */
  apply(target: TargetConfig, replicas: number, opts: ApplyOptions): Promise<ActResult>;
  /** Puts an HPA's minReplicas back to what it was before the floor (unless someone changed it since). */
  revertFloor(target: TargetConfig, floor: Floor): Promise<string>;
}

/** True when a state read after a crash shows that an apply to `to` replicas took effect. */
export function applyTookEffect(target: TargetConfig, state: WorkloadState, to: number): boolean {
  if (state.setpoint === to) return true;
  // An HPA floor at or below the HPA's own minimum is a no-op that leaves no floor behind.
  return target.workload.kind === 'HorizontalPodAutoscaler' && !state.floor && state.setpoint >= to;
}

/**
 * The refusal of a write computed for a workload state that no longer holds (checked against a read
 * made just before writing). HPA targets compare what the HPA runs (status.currentReplicas, the count
 * the recommendation was made from), and a scale-up is also refused if it would lower the HPA's
 * spec.minReplicas, which someone raised since (the HPA's status lags its spec by up to a sync period).
 */
export function staleRecommendation(
  t: TargetConfig,
  fresh: { replicas: number; minReplicas?: number },
  to: number,
  expected: number | undefined,
  newMinReplicas?: number
): PrescalerError | undefined {
  if (expected === undefined) return undefined;
  const wait = 'wait for the next evaluation';
  if (fresh.replicas !== expected) {
    return new PrescalerError(
      'conflict',
      `stale: ${t.name} now runs ${fresh.replicas} replicas, the recommendation was made at ${expected}; ${wait}`
    );
  }
  if (
    to > expected &&
    newMinReplicas !== undefined &&
    fresh.minReplicas !== undefined &&
    newMinReplicas < fresh.minReplicas
  ) {
    return new PrescalerError(
      'conflict',
      `stale: ${t.name}'s HPA minReplicas is now ${fresh.minReplicas}; this scale-up would lower it to ` +
        `${newMinReplicas}; ${wait}`
    );
  }
  return undefined;
}
