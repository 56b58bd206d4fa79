/**
 * The Store both backends are: the four tables' modules over one Database (database.ts), each method
 * one statement or one transaction. A backend (sqlite.ts, postgres.ts) supplies only the Database.
 */
import * as alerts from './alert-occurrences';
import * as audit from './audit';
import type { Database } from './database';
import * as dryRun from './dry-run-state';
import * as recommendations from './recommendations';
import type {
  AlertClaim,
  AuditDecision,
  AuditRecord,
  DryRunState,
  RecommendationKind,
  RecommendationStatus,
  Store,
  StoredRecommendation,
} from './types';

export abstract class SqlStore implements Store {
  abstract readonly kind: 'sqlite' | 'postgres';

  protected constructor(protected readonly database: Database) {}

  schemaVersion(): Promise<number> {
    return this.database.schemaVersion();
  }

  close(): Promise<void> {
    return this.database.close();
  }

  // -- recommendations ------------------------------------------------------------------------------

  addRecommendation(rec: StoredRecommendation, supersedes: RecommendationKind[]): Promise<void> {
    return this.database.transaction(null, async (sql) => {
      await recommendations.supersedePending(sql, rec.target, rec.createdAt, { kinds: supersedes });
      await recommendations.insert(sql, rec);
    });
  }

  supersedePending(target: string, kinds: RecommendationKind[], now: number): Promise<number> {
    return recommendations.supersedePending(this.database, target, now, { kinds });
  }

  getRecommendation(id: string): Promise<StoredRecommendation | undefined> {
    return recommendations.byId(this.database, id);
  }

  pendingRecommendation(target: string, kind: RecommendationKind): Promise<StoredRecommendation | undefined> {
    return recommendations.pending(this.database, target, kind);
  }

  listRecommendations(
    opts: { target?: string; status?: RecommendationStatus; limit?: number } = {}
  ): Promise<StoredRecommendation[]> {
    return recommendations.list(this.database, opts);
  }

  expireDue(now: number): Promise<number> {
    return recommendations.expireDue(this.database, now);
  }

  setRecommendationStatus(id: string, status: RecommendationStatus, now: number): Promise<void> {
    return recommendations.setStatus(this.database, id, status, now);
  }

  // -- alert occurrences ----------------------------------------------------------------------------

  claimAlertOccurrence(
    target: string,
    fingerprint: string,
    startsAt: string,
    now: number
  ): Promise<AlertClaim> {
    return this.database.transaction('alerts', (sql) =>
      alerts.claim(sql, target, fingerprint, startsAt, now)
    );
  }

  settleAlertOccurrence(
    target: string,
    fingerprint: string,
    startsAt: string,
    recommendationId: string
  ): Promise<void> {
    return alerts.settle(this.database, target, fingerprint, startsAt, recommendationId);
  }

  releaseAlertOccurrence(target: string, fingerprint: string, startsAt: string): Promise<void> {
    return alerts.release(this.database, target, fingerprint, startsAt);
  }

  resolveAlertOccurrence(
    target: string,
    fingerprint: string,
    startsAt: string,
    now: number
  ): Promise<number> {
    return alerts.resolve(this.database, target, fingerprint, startsAt, now);
  }

  releaseUnsettledClaims(before: number): Promise<number> {
    return alerts.releaseUnsettled(this.database, before);
  }

  // -- audit ----------------------------------------------------------------------------------------

  decideApply(
    recommendationId: string,
    fields: { at: number; actor: string; dryRun: boolean },
    check: (rec: StoredRecommendation | undefined) => StoredRecommendation
  ): Promise<{ record: AuditRecord; existing: boolean }> {
    return this.database.transaction('decide', (sql) =>
      audit.decideApply(sql, recommendationId, fields, check)
    );
  }

  decideAction(fields: AuditDecision): Promise<AuditRecord> {
    return this.database.transaction('decide', (sql) => audit.insert(sql, fields));
  }

  finishAudit(
    id: number,
    outcome: 'applied' | 'failed',
    f: { now: number; detail: string; fromReplicas?: number; reconciled?: boolean; errorCode?: string }
  ): Promise<AuditRecord> {
    return this.database.transaction(null, (sql) => audit.finish(sql, id, outcome, f));
  }

  getAudit(id: number): Promise<AuditRecord | undefined> {
    return audit.byId(this.database, id);
  }

  auditForRecommendation(recommendationId: string): Promise<AuditRecord | undefined> {
    return audit.applyOf(this.database, recommendationId);
  }

  listAudit(opts: { target?: string; limit?: number; before?: number } = {}): Promise<AuditRecord[]> {
    return audit.list(this.database, opts);
  }

  unknownAudits(): Promise<AuditRecord[]> {
    return audit.unknown(this.database);
  }

  // -- dry-run state --------------------------------------------------------------------------------

  getDryRunState(target: string): Promise<DryRunState | undefined> {
    return dryRun.get(this.database, target);
  }

  setDryRunState(target: string, state: DryRunState): Promise<void> {
    return dryRun.set(this.database, target, state);
  }
}
