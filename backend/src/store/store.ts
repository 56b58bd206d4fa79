/**
 * The durable record of what Prescaler recommended and did: recommendations with their lifecycle, the
 * audit log (written before acting and again after), the alert occurrences already answered with an
 * emergency, and the dry-run actuator's remembered state.
 * SQLite in WAL mode with synchronous=FULL, so a committed row survives a crash or power loss.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import Database from 'better-sqlite3';
import { PrescalerError } from '../errors';

export type RecommendationStatus = 'pending' | 'applied' | 'expired' | 'superseded' | 'failed';
export type RecommendationKind = 'forecast' | 'emergency';

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
  /** What the decision was based on (demand, lead time, forecast points); JSON-serialisable. */
  forecast: unknown;
  status: RecommendationStatus;
  statusAt: number;
  /** Where an emergency came from (alert fingerprint), for de-duplication. */
  origin: string | null;
}

export type AuditAction = 'apply' | 'revert-floor';
/** `unknown`: decided and written, outcome not yet recorded (in flight, or the process died). */
export type AuditOutcome = 'unknown' | 'applied' | 'failed';

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

interface AlertOccurrenceRow {
  target: string;
  fingerprint: string;
  starts_at: string;
  first_seen: number;
  recommendation_id: string | null;
  resolved_at: number | null;
}

export interface DryRunState {
  replicas: number;
  floor?: { replicas: number; originalMinReplicas: number; expiresAt: number };
}

/** Ordered, append-only: a database at version n has run exactly the first n. */
const MIGRATIONS: string[] = [
  `CREATE TABLE IF NOT EXISTS recommendations (
     id TEXT PRIMARY KEY,
     target TEXT NOT NULL,
     kind TEXT NOT NULL CHECK (kind IN ('forecast', 'emergency')),
     created_at REAL NOT NULL,
     expires_at REAL NOT NULL,
     current_replicas INTEGER NOT NULL,
     recommended_replicas INTEGER NOT NULL,
     reason TEXT NOT NULL,
     forecast TEXT,
     status TEXT NOT NULL CHECK (status IN ('pending', 'applied', 'expired', 'superseded', 'failed')),
     status_at REAL NOT NULL,
     origin TEXT
   );
   CREATE INDEX IF NOT EXISTS recommendations_target_status ON recommendations (target, status);
   CREATE INDEX IF NOT EXISTS recommendations_created ON recommendations (created_at);
   CREATE TABLE IF NOT EXISTS audit (
     id INTEGER PRIMARY KEY AUTOINCREMENT,
     at REAL NOT NULL,
     action TEXT NOT NULL CHECK (action IN ('apply', 'revert-floor')),
     actor TEXT NOT NULL,
     target TEXT NOT NULL,
     from_replicas INTEGER NOT NULL,
     to_replicas INTEGER NOT NULL,
     recommendation_id TEXT REFERENCES recommendations (id),
     outcome TEXT NOT NULL CHECK (outcome IN ('unknown', 'applied', 'failed')),
     dry_run INTEGER NOT NULL,
     detail TEXT,
     error_code TEXT,
     finished_at REAL,
     reconciled INTEGER NOT NULL DEFAULT 0
   );
   CREATE UNIQUE INDEX IF NOT EXISTS audit_one_apply_per_recommendation
     ON audit (recommendation_id) WHERE action = 'apply';
   CREATE INDEX IF NOT EXISTS audit_outcome ON audit (outcome);
   CREATE TABLE IF NOT EXISTS dry_run_state (
     target TEXT PRIMARY KEY,
     state TEXT NOT NULL
   );`,
  // One row per occurrence of an alert (fingerprint + startsAt): the emergency it raised, and whether
  // it has resolved. recommendation_id NULL: claimed by a notification being handled right now.
  `CREATE TABLE IF NOT EXISTS alert_occurrences (
     target TEXT NOT NULL,
     fingerprint TEXT NOT NULL,
     starts_at TEXT NOT NULL,
     first_seen REAL NOT NULL,
     recommendation_id TEXT REFERENCES recommendations (id),
     resolved_at REAL,
     PRIMARY KEY (target, fingerprint, starts_at)
   );`,
];

interface RecommendationRow {
  id: string;
  target: string;
  kind: RecommendationKind;
  created_at: number;
  expires_at: number;
  current_replicas: number;
  recommended_replicas: number;
  reason: string;
  forecast: string | null;
  status: RecommendationStatus;
  status_at: number;
  origin: string | null;
}

interface AuditRow {
  id: number;
  at: number;
  action: AuditAction;
  actor: string;
  target: string;
  from_replicas: number;
  to_replicas: number;
  recommendation_id: string | null;
  outcome: AuditOutcome;
  dry_run: number;
  detail: string | null;
  error_code: string | null;
  finished_at: number | null;
  reconciled: number;
}

const toRecommendation = (r: RecommendationRow): StoredRecommendation => ({
  id: r.id,
  target: r.target,
  kind: r.kind,
  createdAt: r.created_at,
  expiresAt: r.expires_at,
  currentReplicas: r.current_replicas,
  recommendedReplicas: r.recommended_replicas,
  reason: r.reason,
  forecast: r.forecast === null ? null : JSON.parse(r.forecast),
  status: r.status,
  statusAt: r.status_at,
  origin: r.origin,
});

const toAudit = (r: AuditRow): AuditRecord => ({
  id: r.id,
  at: r.at,
  action: r.action,
  actor: r.actor,
  target: r.target,
  fromReplicas: r.from_replicas,
  toReplicas: r.to_replicas,
  recommendationId: r.recommendation_id,
  outcome: r.outcome,
  dryRun: r.dry_run === 1,
  detail: r.detail,
  errorCode: r.error_code,
  finishedAt: r.finished_at,
  reconciled: r.reconciled === 1,
});

export class Store {
  readonly db: Database.Database;

  constructor(file: string) {
    if (file !== ':memory:') fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
    this.db = new Database(file);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = FULL');
    this.db.pragma('foreign_keys = ON');
    this.db.pragma('busy_timeout = 5000');
    this.migrate();
    // A claim without a recommendation belongs to a notification that was being handled when the
    // process stopped; one backend process owns the database (DESIGN: 1 replica), so none is live now.
    this.db.prepare('DELETE FROM alert_occurrences WHERE recommendation_id IS NULL').run();
  }

  private migrate(): void {
    const version = this.db.pragma('user_version', { simple: true }) as number;
    const run = this.db.transaction(() => {
      for (let v = version; v < MIGRATIONS.length; v++) this.db.exec(MIGRATIONS[v]);
      this.db.pragma(`user_version = ${MIGRATIONS.length}`);
    });
    if (version < MIGRATIONS.length) run.immediate();
  }

  get schemaVersion(): number {
    return this.db.pragma('user_version', { simple: true }) as number;
  }

  close(): void {
    if (this.db.open) this.db.close();
  }

  /** Writes a new pending recommendation; older pending ones of the kinds given are superseded. */
  addRecommendation(rec: StoredRecommendation, supersedes: RecommendationKind[]): void {
    this.db.transaction(() => {
      if (supersedes.length) {
        this.db
          .prepare(
            `UPDATE recommendations SET status = 'superseded', status_at = ?
             WHERE target = ? AND status = 'pending' AND kind IN (${supersedes.map(() => '?').join(',')})`
          )
          .run(rec.createdAt, rec.target, ...supersedes);
      }
      this.db
        .prepare(
          `INSERT INTO recommendations (id, target, kind, created_at, expires_at, current_replicas,
             recommended_replicas, reason, forecast, status, status_at, origin)
           VALUES (@id, @target, @kind, @createdAt, @expiresAt, @currentReplicas, @recommendedReplicas, @reason,
             @forecast, @status, @statusAt, @origin)`
        )
        .run({ ...rec, forecast: rec.forecast === undefined ? null : JSON.stringify(rec.forecast) });
    })();
  }

  /** Marks pending recommendations of a target superseded (e.g. when the forecast no longer asks for a change). */
  supersedePending(target: string, kinds: RecommendationKind[], now: number): number {
    return this.db
      .prepare(
        `UPDATE recommendations SET status = 'superseded', status_at = ?
         WHERE target = ? AND status = 'pending' AND kind IN (${kinds.map(() => '?').join(',')})`
      )
      .run(now, target, ...kinds).changes;
  }

  getRecommendation(id: string): StoredRecommendation | undefined {
    const row = this.db.prepare('SELECT * FROM recommendations WHERE id = ?').get(id) as
      RecommendationRow | undefined;
    return row && toRecommendation(row);
  }

  pendingRecommendation(target: string, kind: RecommendationKind): StoredRecommendation | undefined {
    const row = this.db
      .prepare(
        `SELECT * FROM recommendations WHERE target = ? AND kind = ? AND status = 'pending'
         ORDER BY created_at DESC LIMIT 1`
      )
      .get(target, kind) as RecommendationRow | undefined;
    return row && toRecommendation(row);
  }

  /**
   * Claims an alert occurrence for the notification being handled: `claimed` unless this occurrence
   * (same fingerprint and startsAt) was seen before, resolved or not, with no time limit. Without a
   * startsAt only a resolved notification ends the occurrence. One exception: a firing occurrence whose
   * emergency was superseded before anyone applied it (another action on the target landed first, so its
   * count was stale) had nothing done for it, and is claimed again (`replaces` names that emergency),
   * unless another emergency is pending for the target.
   */
  claimAlertOccurrence(
    target: string,
    fingerprint: string,
    startsAt: string,
    now: number
  ): { claimed: true; replaces?: string } | { claimed: false; occurrence: AlertOccurrence } {
    type Claim = { claimed: true; replaces?: string } | { claimed: false; occurrence: AlertOccurrence };
    return this.db
      .transaction((): Claim => {
        const row = this.db
          .prepare('SELECT * FROM alert_occurrences WHERE target = ? AND fingerprint = ? AND starts_at = ?')
          .get(target, fingerprint, startsAt) as AlertOccurrenceRow | undefined;
        if (row && row.resolved_at === null && row.recommendation_id !== null) {
          const raised = this.getRecommendation(row.recommendation_id);
          const unused =
            raised?.status === 'superseded' &&
            !this.auditForRecommendation(raised.id) &&
            !this.pendingRecommendation(target, 'emergency');
          if (unused) {
            this.db
              .prepare(
                `UPDATE alert_occurrences SET recommendation_id = NULL
                 WHERE target = ? AND fingerprint = ? AND starts_at = ?`
              )
              .run(target, fingerprint, startsAt);
            return { claimed: true, replaces: raised.id };
          }
        }
        if (row) {
          // A resolved occurrence with a startsAt stays answered: a firing notification for it is a late
          // delivery (a new firing has a new startsAt).
          if (row.resolved_at === null || startsAt !== '') {
            return {
              claimed: false,
              occurrence: {
                target: row.target,
                fingerprint: row.fingerprint,
                startsAt: row.starts_at,
                firstSeen: row.first_seen,
                recommendationId: row.recommendation_id,
                resolvedAt: row.resolved_at,
              },
            };
          }
          this.releaseAlertOccurrence(target, fingerprint, startsAt);
        }
        this.db
          .prepare(
            'INSERT INTO alert_occurrences (target, fingerprint, starts_at, first_seen) VALUES (?, ?, ?, ?)'
          )
          .run(target, fingerprint, startsAt, now);
        return { claimed: true };
      })
      .immediate();
  }

  /** Records the emergency a claimed occurrence raised. */
  settleAlertOccurrence(
    target: string,
    fingerprint: string,
    startsAt: string,
    recommendationId: string
  ): void {
    this.db
      .prepare(
        'UPDATE alert_occurrences SET recommendation_id = ? WHERE target = ? AND fingerprint = ? AND starts_at = ?'
      )
      .run(recommendationId, target, fingerprint, startsAt);
  }

  /** Gives a claim back (nothing was raised for it). */
  releaseAlertOccurrence(target: string, fingerprint: string, startsAt: string): void {
    this.db
      .prepare('DELETE FROM alert_occurrences WHERE target = ? AND fingerprint = ? AND starts_at = ?')
      .run(target, fingerprint, startsAt);
  }

  /** A resolved notification ends the occurrence (and any of the same alert recorded without a startsAt). */
  resolveAlertOccurrence(target: string, fingerprint: string, startsAt: string, now: number): number {
    return this.db
      .prepare(
        `UPDATE alert_occurrences SET resolved_at = ?
         WHERE target = ? AND fingerprint = ? AND resolved_at IS NULL AND (starts_at = ? OR starts_at = '' OR ? = '')`
      )
      .run(now, target, fingerprint, startsAt, startsAt).changes;
  }

  listRecommendations(
    opts: { target?: string; status?: RecommendationStatus; limit?: number } = {}
  ): StoredRecommendation[] {
    const where: string[] = [];
    const args: unknown[] = [];
    if (opts.target) {
      where.push('target = ?');
      args.push(opts.target);
    }
    if (opts.status) {
      where.push('status = ?');
      args.push(opts.status);
    }
    const rows = this.db
      .prepare(
        `SELECT * FROM recommendations ${where.length ? 'WHERE ' + where.join(' AND ') : ''}
         ORDER BY created_at DESC, rowid DESC LIMIT ?`
      )
      .all(...args, opts.limit ?? 100) as RecommendationRow[];
    return rows.map(toRecommendation);
  }

  /** Desired counts recently recommended for a target (for scale-down stabilisation after a restart). */
  recentRecommendedReplicas(target: string, since: number): Array<{ at: number; replicas: number }> {
    return (
      this.db
        .prepare(
          `SELECT created_at AS at, recommended_replicas AS replicas FROM recommendations
           WHERE target = ? AND kind = 'forecast' AND created_at >= ? ORDER BY created_at`
        )
        .all(target, since) as Array<{ at: number; replicas: number }>
    ).map((r) => ({ at: r.at, replicas: r.replicas }));
  }

  expireDue(now: number): number {
    return this.db
      .prepare(
        `UPDATE recommendations SET status = 'expired', status_at = ? WHERE status = 'pending' AND expires_at <= ?`
      )
      .run(now, now).changes;
  }

  setRecommendationStatus(id: string, status: RecommendationStatus, now: number): void {
    this.db.prepare('UPDATE recommendations SET status = ?, status_at = ? WHERE id = ?').run(status, now, id);
  }

  /**
   * The "decided" half of an action, in one transaction: `check` sees the recommendation and throws to
   * refuse; otherwise an audit row with outcome `unknown` is committed before anything touches the
   * cluster. If an apply of this recommendation was already recorded, that record comes back instead.
   * One action per target at a time: refused (conflict) while another action on the target has no
   * outcome yet; and deciding supersedes the target's other pending recommendations, so two pieces of
   * advice computed against the same count can never both be applied.
   */
  decideApply(
    recommendationId: string,
    fields: { at: number; actor: string; dryRun: boolean },
    check: (rec: StoredRecommendation | undefined) => StoredRecommendation
  ): { record: AuditRecord; existing: boolean } {
    return this.db
      .transaction(() => {
        const prior = this.db
          .prepare(`SELECT * FROM audit WHERE recommendation_id = ? AND action = 'apply'`)
          .get(recommendationId) as AuditRow | undefined;
        if (prior) return { record: toAudit(prior), existing: true };
        const rec = check(this.getRecommendation(recommendationId));
        const busy = this.db
          .prepare(`SELECT * FROM audit WHERE target = ? AND outcome = 'unknown' ORDER BY id LIMIT 1`)
          .get(rec.target) as AuditRow | undefined;
        if (busy) {
          const what = busy.recommendation_id ? `${busy.action} of ${busy.recommendation_id}` : busy.action;
          throw new PrescalerError(
            'conflict',
            `${rec.target} has an action without an outcome yet (audit record ${busy.id}: ${what} by ` +
              `${busy.actor}); it is in flight or awaits reconciliation with the cluster. Nothing was written; ` +
              'try again when it has finished'
          );
        }
        this.db
          .prepare(
            `UPDATE recommendations SET status = 'superseded', status_at = ?
             WHERE target = ? AND status = 'pending' AND id != ?`
          )
          .run(fields.at, rec.target, rec.id);
        const id = this.insertAuditRow({
          at: fields.at,
          action: 'apply',
          actor: fields.actor,
          target: rec.target,
          // What the recommendation saw; the actuator's fresh read replaces it when the outcome is written.
          fromReplicas: rec.currentReplicas,
          toReplicas: rec.recommendedReplicas,
          recommendationId: rec.id,
          dryRun: fields.dryRun,
        });
        return { record: this.getAudit(id)!, existing: false };
      })
      .immediate();
  }

  /** An audit row with outcome `unknown` for an action that has no recommendation (a floor reverting). */
  decideAction(
    fields: Omit<AuditRecord, 'id' | 'outcome' | 'detail' | 'errorCode' | 'finishedAt' | 'reconciled'>
  ): AuditRecord {
    return this.getAudit(this.insertAuditRow(fields))!;
  }

  private insertAuditRow(
    f: Omit<AuditRecord, 'id' | 'outcome' | 'detail' | 'errorCode' | 'finishedAt' | 'reconciled'>
  ): number {
    const r = this.db
      .prepare(
        `INSERT INTO audit (at, action, actor, target, from_replicas, to_replicas, recommendation_id, outcome, dry_run)
         VALUES (?, ?, ?, ?, ?, ?, ?, 'unknown', ?)`
      )
      .run(
        f.at,
        f.action,
        f.actor,
        f.target,
        f.fromReplicas,
        f.toReplicas,
        f.recommendationId,
        f.dryRun ? 1 : 0
      );
    return Number(r.lastInsertRowid);
  }

  /**
   * The "done" half: the outcome, and with it the recommendation's status. Only an `unknown` row is
   * finished, so a late writer can never overwrite a settled outcome.
   */
  finishAudit(
    id: number,
    outcome: 'applied' | 'failed',
    f: { now: number; detail: string; fromReplicas?: number; reconciled?: boolean; errorCode?: string }
  ): AuditRecord {
    return this.db.transaction(() => {
      const row = this.getAudit(id);
      if (!row) throw new Error(`no audit record ${id}`);
      if (row.outcome !== 'unknown') return row;
      this.db
        .prepare(
          `UPDATE audit SET outcome = ?, detail = ?, error_code = ?, finished_at = ?, from_replicas = ?, reconciled = ?
           WHERE id = ? AND outcome = 'unknown'`
        )
        .run(
          outcome,
          f.detail,
          f.errorCode ?? null,
          f.now,
          f.fromReplicas ?? row.fromReplicas,
          f.reconciled ? 1 : 0,
          id
        );
      if (row.recommendationId && row.action === 'apply') {
        this.setRecommendationStatus(
          row.recommendationId,
          outcome === 'applied' ? 'applied' : 'failed',
          f.now
        );
        if (outcome === 'applied') {
          // The workload changed: other pending advice for it was computed against the old count.
          this.db
            .prepare(
              `UPDATE recommendations SET status = 'superseded', status_at = ?
               WHERE target = ? AND status = 'pending' AND id != ?`
            )
            .run(f.now, row.target, row.recommendationId);
        }
      }
      return this.getAudit(id)!;
    })();
  }

  getAudit(id: number): AuditRecord | undefined {
    const row = this.db.prepare('SELECT * FROM audit WHERE id = ?').get(id) as AuditRow | undefined;
    return row && toAudit(row);
  }

  auditForRecommendation(recommendationId: string): AuditRecord | undefined {
    const row = this.db
      .prepare(`SELECT * FROM audit WHERE recommendation_id = ? AND action = 'apply'`)
      .get(recommendationId) as AuditRow | undefined;
    return row && toAudit(row);
  }

  listAudit(opts: { target?: string; limit?: number; before?: number } = {}): AuditRecord[] {
    const where: string[] = [];
    const args: unknown[] = [];
    if (opts.target) {
      where.push('target = ?');
      args.push(opts.target);
    }
    if (opts.before !== undefined) {
      where.push('id < ?');
      args.push(opts.before);
    }
    const rows = this.db
      .prepare(
        `SELECT * FROM audit ${where.length ? 'WHERE ' + where.join(' AND ') : ''} ORDER BY id DESC LIMIT ?`
      )
      .all(...args, opts.limit ?? 100) as AuditRow[];
    return rows.map(toAudit);
  }

  unknownAudits(): AuditRecord[] {
    return (
      this.db.prepare(`SELECT * FROM audit WHERE outcome = 'unknown' ORDER BY id`).all() as AuditRow[]
    ).map(toAudit);
  }

  getDryRunState(target: string): DryRunState | undefined {
    const row = this.db.prepare('SELECT state FROM dry_run_state WHERE target = ?').get(target) as
      { state: string } | undefined;
    return row && (JSON.parse(row.state) as DryRunState);
  }

  setDryRunState(target: string, state: DryRunState): void {
    this.db
      .prepare(
        'INSERT INTO dry_run_state (target, state) VALUES (?, ?) ON CONFLICT (target) DO UPDATE SET state = excluded.state'
      )
      .run(target, JSON.stringify(state));
  }
}
