/**
 * The HPA-floor rule, once, for both actuators (kubernetes.ts writes it to the HPA, dry-run.ts to the
 * store): applying `replicas` to an HPA target raises its spec.minReplicas to that count for a while
 * (a floor), remembering the minimum from before the first floor so it can be put back. A count at or
 * below that minimum needs no floor, and removes one still active. Pure: no I/O, no clock.
 */
import type { ApplyOptions, Floor } from './types';

/** An HPA as it stands: its spec bounds and the floor Prescaler raised on it, if one is active. */
export interface HpaBounds {
  minReplicas: number;
  maxReplicas: number;
  floor?: Floor;
}

export interface FloorPlan {
  /** spec.minReplicas before the apply (ActResult.fromReplicas). */
  fromMinReplicas: number;
  /** The HPA's own minimum: before any floor (a floor already raised keeps the one from before it). */
  originalMinReplicas: number;
  /** spec.minReplicas after the apply (what the staleness check compares with: staleRecommendation). */
  minReplicas: number;
  /** The floor to record; absent when the count is at or below the HPA's own minimum. */
  floor?: Floor;
  /** The active floor this apply takes away (no floor wanted any more). */
  removes?: Floor;
  /** The count exceeds spec.maxReplicas: the apply must be refused. */
  aboveMax: boolean;
}

/** What applying `replicas` to an HPA does: the floor raised (until now + floorTtl) or removed. */
export function planFloor(
  hpa: HpaBounds,
  replicas: number,
  at: Pick<ApplyOptions, 'now' | 'floorTtl'>
): FloorPlan {
  const originalMinReplicas = hpa.floor ? hpa.floor.originalMinReplicas : hpa.minReplicas;
  const raise = replicas > originalMinReplicas;
  return {
    fromMinReplicas: hpa.minReplicas,
    originalMinReplicas,
    minReplicas: raise ? replicas : originalMinReplicas,
    floor: raise ? { replicas, originalMinReplicas, expiresAt: at.now + at.floorTtl } : undefined,
    removes: raise ? undefined : hpa.floor,
    aboveMax: replicas > hpa.maxReplicas,
  };
}
