/**
 * What Prescaler keeps durably, and the one interface both stores implement (sqlite.ts, the embedded
 * default; postgres.ts, shared by replicas). Every method is async because PostgreSQL's client is;
 * SQLite's answers are ready at once. Errors: PrescalerError('conflict') where decideApply refuses;
 * anything else is the database's own error.
 */
import type {
  AuditAction,
  AuditOutcome,
  ForecastBasis,
  RecommendationKind,
  RecommendationStatus,
} from '../contract/api';

// The lifecycle, kind and audit unions and the forecast basis are the HTTP contract's (contract/api.ts):
// the store keeps what the API serves.
export { REPLICA_LIMITS, type ReplicaLimit } from '../contract/api';
export type { AuditAction, AuditOutcome, ForecastBasis, RecommendationKind, RecommendationStatus };

export interface StoredRecommendation {
  id: string;
  target: string;
  kind: RecommendationKind;
  /** Unix seconds. */
  createdAt: number;
  expiresAt: number;
  currentReplicas: number;
  recommendedReplicas: number;
  reason: string;
  /**
   * What a forecast recommendation was based on; null for an emergency. Validated when read
   * (recommendations.ts parseForecastBasis): a value that is not a basis reads as null.
   */
  forecast: ForecastBasis | null;
  status: RecommendationStatus;
  statusAt: number;
  /** Where an emergency came from (alert fingerprint), for de-duplication. */
  origin: string | null;
}

export interface AuditRecord {
  id: number;
  at: number;
  action: AuditAction;
  actor: string;
  target: string;
  fromReplicas: number;
  toReplicas: number;
  recommendationId: string | null;
  outcome: AuditOutcome;
  dryRun: boolean;
  detail: string | null;
  /** For a failure: the error code the apply answered with (errors.ts), so a repeat answers the same. */
  errorCode: string | null;
  finishedAt: number | null;
  /** Outcome settled by reading the cluster after a crash, not by seeing the action finish. */
  reconciled: boolean;
}

export interface AlertOccurrence {
  target: string;
  fingerprint: string;
  /** ISO time the occurrence began; '' when the sender gave none. */
  startsAt: string;
  firstSeen: number;
  /** The emergency it raised; null while a notification is still being handled. */
  recommendationId: string | null;
  resolvedAt: number | null;
}

export interface DryRunState {
  replicas: number;
  floor?: { replicas: number; originalMinReplicas: number; expiresAt: number };
}

/** The fields an audit row is decided with (the rest are written when its outcome is). */
export type AuditDecision = Omit<
  AuditRecord,
  'id' | 'outcome' | 'detail' | 'errorCode' | 'finishedAt' | 'reconciled'
>;

export type AlertClaim =
  { claimed: true; replaces?: string } | { claimed: false; occurrence: AlertOccurrence };

export interface Store {
  readonly kind: 'sqlite' | 'postgres';
  /** How many migrations (migrations.ts) this database has run. */
  schemaVersion(): Promise<number>;
  close(): Promise<void>;

  /** Writes a new pending recommendation; older pending ones of the kinds given are superseded. */
  addRecommendation(rec: StoredRecommendation, supersedes: RecommendationKind[]): Promise<void>;
  /** Marks pending recommendations of a target superseded (e.g. when the forecast no longer asks for a change). */
  supersedePending(target: string, kinds: RecommendationKind[], now: number): Promise<number>;
  getRecommendation(id: string): Promise<StoredRecommendation | undefined>;
  pendingRecommendation(target: string, kind: RecommendationKind): Promise<StoredRecommendation | undefined>;
  listRecommendations(opts?: {
    target?: string;
    status?: RecommendationStatus;
    limit?: number;
  }): Promise<StoredRecommendation[]>;
  expireDue(now: number): Promise<number>;
  setRecommendationStatus(id: string, status: RecommendationStatus, now: number): Promise<void>;

  /**
   * Claims an alert occurrence for the notification being handled: `claimed` unless this occurrence
   * (same fingerprint and startsAt) was seen before, resolved or not, with no time limit. Without a
   * startsAt only a resolved notification ends the occurrence. One exception: a firing occurrence whose
   * emergency was superseded before anyone applied it (another action on the target landed first, so its
   * count was stale) had nothing done for it, and is claimed again (`replaces` names that emergency),
   * unless another emergency is pending for the target. Atomic across processes sharing the database.
   */
  claimAlertOccurrence(
    target: string,
    fingerprint: string,
    startsAt: string,
    now: number
  ): Promise<AlertClaim>;
  /** Records the emergency a claimed occurrence raised. */
  settleAlertOccurrence(
    target: string,
    fingerprint: string,
    startsAt: string,
    recommendationId: string
  ): Promise<void>;
  /** Gives a claim back (nothing was raised for it). */
  releaseAlertOccurrence(target: string, fingerprint: string, startsAt: string): Promise<void>;
  /** A resolved notification ends the occurrence (and any of the same alert recorded without a startsAt). */
  resolveAlertOccurrence(target: string, fingerprint: string, startsAt: string, now: number): Promise<number>;
  /**
   * Drops claims first seen before `before` that never got a recommendation: they belong to
   * notifications that were being handled when their process stopped. With replicas, `before` must be
   * older than any notification still being handled (a claim is settled within seconds).
   */
  releaseUnsettledClaims(before: number): Promise<number>;

  /**
   * The "decided" half of an action, in one transaction: `check` sees the recommendation and throws to
   * refuse; otherwise an audit row with outcome `unknown` is committed before anything touches the
   * cluster. If an apply of this recommendation was already recorded, that record comes back instead
   * (`existing`), whichever process recorded it: at most one apply per recommendation, by the database.
   * One action per target at a time: refused (conflict) while another action on the target has no
   * outcome yet; and deciding supersedes the target's other pending recommendations, so two pieces of
   * advice computed against the same count can never both be applied.
   */
  decideApply(
    recommendationId: string,
    fields: { at: number; actor: string; dryRun: boolean },
    check: (rec: StoredRecommendation | undefined) => StoredRecommendation
  ): Promise<{ record: AuditRecord; existing: boolean }>;
  /** An audit row with outcome `unknown` for an action that has no recommendation (a floor reverting). */
  decideAction(fields: AuditDecision): Promise<AuditRecord>;
  /**
   * The "done" half: the outcome, and with it the recommendation's status. Only an `unknown` row is
   * finished (a conditional update), so a late writer can never overwrite a settled outcome.
   */
  finishAudit(
    id: number,
    outcome: 'applied' | 'failed',
    f: { now: number; detail: string; fromReplicas?: number; reconciled?: boolean; errorCode?: string }
  ): Promise<AuditRecord>;
  getAudit(id: number): Promise<AuditRecord | undefined>;
  auditForRecommendation(recommendationId: string): Promise<AuditRecord | undefined>;
  listAudit(opts?: { target?: string; limit?: number; before?: number }): Promise<AuditRecord[]>;
  unknownAudits(): Promise<AuditRecord[]>;

  getDryRunState(target: string): Promise<DryRunState | undefined>;
  setDryRunState(target: string, state: DryRunState): Promise<void>;
}
