/**
 * The replica count for an alert: scale up now by half again (at least one replica), or to the
 * forecast's count if that is higher, inside the target's bounds and, when a policy will apply it
 * without a human, under that policy's cap. Never scales down. Pure.
 */
export interface EmergencyInput {
  name: string;
  currentReplicas: number;
  minReplicas: number;
  maxReplicas: number;
  /** The latest forecast recommendation for the target, if any. */
  forecastReplicas?: number;
  /** autoApplyEmergency.maxReplicas when the policy is on. */
  autoApplyCap?: number;
  alertName: string;
}

export interface EmergencyRecommendation {
  recommendedReplicas: number;
  change: boolean;
  reason: string;
}

export function emergencyReplicas(i: EmergencyInput): EmergencyRecommendation {
  const surge = Math.max(i.currentReplicas + 1, Math.ceil(i.currentReplicas * 1.5));
  let n = Math.max(surge, i.forecastReplicas ?? 0);
  const why = n === surge ? `+50 % of ${i.currentReplicas}` : `forecast asks for ${n}`;
  const notes: string[] = [];
  if (n > i.maxReplicas) {
    n = i.maxReplicas;
    notes.push(`capped at the maximum of ${i.maxReplicas}`);
  }
  if (i.autoApplyCap !== undefined && n > i.autoApplyCap) {
    n = Math.max(i.currentReplicas, i.autoApplyCap);
    notes.push(`capped at ${i.autoApplyCap} by autoApplyEmergency.maxReplicas`);
  }
  n = Math.max(n, i.minReplicas, i.currentReplicas);
  const change = n !== i.currentReplicas;
  const reason =
    `alert "${i.alertName}" firing for ${i.name}: emergency scale-up (${why}) → ${n}` +
    (notes.length ? `; ${notes.join('; ')}` : '') +
    `; now ${i.currentReplicas}` +
    (change ? '' : '; no change possible');
  return { recommendedReplicas: n, change, reason };
}
