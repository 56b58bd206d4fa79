/** Store rows → the JSON docs/api.md answers: times in Unix milliseconds. */
import type { AuditRecord as WireAuditRecord, Recommendation } from '../../contract/api';
import { ms } from '../../contract/time';
import type { AuditRecord, StoredRecommendation } from '../../store/store';

export function renderRecommendation(r: StoredRecommendation): Recommendation {
  return {
    id: r.id,
    target: r.target,
    kind: r.kind,
    currentReplicas: r.currentReplicas,
    recommendedReplicas: r.recommendedReplicas,
    reason: r.reason,
    forecast: r.forecast,
    createdAt: ms(r.createdAt),
    expiresAt: ms(r.expiresAt),
    status: r.status,
    statusAt: ms(r.statusAt),
  };
}

export function renderAudit(a: AuditRecord): WireAuditRecord {
  return {
    id: a.id,
    at: ms(a.at),
    action: a.action,
    actor: a.actor,
    target: a.target,
    fromReplicas: a.fromReplicas,
    toReplicas: a.toReplicas,
    recommendationId: a.recommendationId,
    outcome: a.outcome,
    dryRun: a.dryRun,
    detail: a.detail,
    finishedAt: a.finishedAt === null ? null : ms(a.finishedAt),
    reconciled: a.reconciled,
  };
}
