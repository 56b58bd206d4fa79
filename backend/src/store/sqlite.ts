/**
 * The embedded store: SQLite in WAL mode with synchronous=FULL, so a committed row survives a crash or
 * power loss. One process owns the file (claimFile refuses a second), so an answer computed inside one
 * better-sqlite3 transaction is atomic without further locking.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import Database from 'better-sqlite3';
import { PrescalerError } from '../errors';
import { SQLITE_MIGRATIONS } from './migrations';
import {
  busyMessage,
  toAudit,
  toOccurrence,
  toRecommendation,
  type AlertClaim,
  type AlertOccurrenceRow,
  type AuditDecision,
  type AuditRecord,
  type AuditRow,
  type DryRunState,
  type RecommendationKind,
  type RecommendationRow,
  type RecommendationStatus,
  type Store,
  type StoredRecommendation,
} from './types';

/** A second process on the same SQLite file: it must not start (two evaluation loops, two actors). */
export class StoreInUseError extends Error {
  constructor(file: string) {
    super(
      `${file} is in use by another Prescaler process (it holds ${file}.lock). With SQLite only one ` +
        'process may use the database; run one replica, or give every replica PRESCALER_DB=postgres://… ' +
        'to run several'
    );
    this.name = 'StoreInUseError';
  }
}

/**
 * Takes the file's owner lock: an exclusive transaction on a companion SQLite file, so the operating
 * system releases it however the process ends (a SIGKILL too), while readers of the database itself
 * (sqlite3, backups) are never blocked.
 */
function claimFile(file: string): Database.Database {
  const lock = new Database(`${file}.lock`);
  try {
    lock.pragma('busy_timeout = 0');
    lock.exec('BEGIN EXCLUSIVE');
  } catch (e) {
    lock.close();
    if ((e as { code?: string }).code === 'SQLITE_BUSY') throw new StoreInUseError(file);
    throw e;
  }
  return lock;
}

export class SqliteStore implements Store {
  readonly kind = 'sqlite' as const;
  readonly db: Database.Database;
  /** `<file>.lock`, held in an exclusive transaction for as long as this store is open. */
  private readonly owner?: Database.Database;

  constructor(file: string) {
    if (file !== ':memory:') {
      fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
      this.owner = claimFile(file);
    }
    try {
      this.db = new Database(file);
    } catch (e) {
      this.owner?.close();
      throw e;
    }
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = FULL');
    this.db.pragma('foreign_keys = ON');
    this.db.pragma('busy_timeout = 5000');
    this.migrate();
  }

  private migrate(): void {
    const version = this.db.pragma('user_version', { simple: true }) as number;
    const run = this.db.transaction(() => {
      for (let v = version; v < SQLITE_MIGRATIONS.length; v++) this.db.exec(SQLITE_MIGRATIONS[v]);
      this.db.pragma(`user_version = ${SQLITE_MIGRATIONS.length}`);
    });
    if (version < SQLITE_MIGRATIONS.length) run.immediate();
  }

  async schemaVersion(): Promise<number> {
    return this.db.pragma('user_version', { simple: true }) as number;
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
    if (this.owner?.open) this.owner.close();
  }

  async addRecommendation(rec: StoredRecommendation, supersedes: RecommendationKind[]): Promise<void> {
    this.db.transaction(() => {
      if (supersedes.length) this.supersede(rec.target, supersedes, rec.createdAt);
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

  private supersede(target: string, kinds: RecommendationKind[], now: number): number {
    return this.db
      .prepare(
        `UPDATE recommendations SET status = 'superseded', status_at = ?
         WHERE target = ? AND status = 'pending' AND kind IN (${kinds.map(() => '?').join(',')})`
      )
      .run(now, target, ...kinds).changes;
  }

  async supersedePending(target: string, kinds: RecommendationKind[], now: number): Promise<number> {
    return this.supersede(target, kinds, now);
  }

  private recommendation(id: string): StoredRecommendation | undefined {
    const row = this.db.prepare('SELECT * FROM recommendations WHERE id = ?').get(id) as
      RecommendationRow | undefined;
    return row && toRecommendation(row);
  }

  async getRecommendation(id: string): Promise<StoredRecommendation | undefined> {
    return this.recommendation(id);
  }

  private pending(target: string, kind: RecommendationKind): StoredRecommendation | undefined {
    const row = this.db
      .prepare(
        `SELECT * FROM recommendations WHERE target = ? AND kind = ? AND status = 'pending'
         ORDER BY created_at DESC LIMIT 1`
      )
      .get(target, kind) as RecommendationRow | undefined;
    return row && toRecommendation(row);
  }

  async pendingRecommendation(target: string, kind: RecommendationKind) {
    return this.pending(target, kind);
  }

  async claimAlertOccurrence(
    target: string,
    fingerprint: string,
    startsAt: string,
    now: number
  ): Promise<AlertClaim> {
    const key = [target, fingerprint, startsAt];
    return this.db
      .transaction((): AlertClaim => {
        const row = this.db
          .prepare('SELECT * FROM alert_occurrences WHERE target = ? AND fingerprint = ? AND starts_at = ?')
          .get(...key) as AlertOccurrenceRow | undefined;
        if (row && row.resolved_at === null && row.recommendation_id !== null) {
          const raised = this.recommendation(row.recommendation_id);
          const unused =
            raised?.status === 'superseded' && !this.applyOf(raised.id) && !this.pending(target, 'emergency');
          if (unused) {
            this.db
              .prepare(
                `UPDATE alert_occurrences SET recommendation_id = NULL
                 WHERE target = ? AND fingerprint = ? AND starts_at = ?`
              )
              .run(...key);
            return { claimed: true, replaces: raised.id };
          }
        }
        if (row) {
          // A resolved occurrence with a startsAt stays answered: a firing notification for it is a late
          // delivery (a new firing has a new startsAt).
          if (row.resolved_at === null || startsAt !== '')
            return { claimed: false, occurrence: toOccurrence(row) };
          this.db
            .prepare('DELETE FROM alert_occurrences WHERE target = ? AND fingerprint = ? AND starts_at = ?')
            .run(...key);
        }
        this.db
          .prepare(
            'INSERT INTO alert_occurrences (target, fingerprint, starts_at, first_seen) VALUES (?, ?, ?, ?)'
          )
          .run(...key, now);
        return { claimed: true };
      })
      .immediate();
  }

  async settleAlertOccurrence(
    target: string,
    fingerprint: string,
    startsAt: string,
    recommendationId: string
  ): Promise<void> {
    this.db
      .prepare(
        'UPDATE alert_occurrences SET recommendation_id = ? WHERE target = ? AND fingerprint = ? AND starts_at = ?'
      )
      .run(recommendationId, target, fingerprint, startsAt);
  }

  async releaseAlertOccurrence(target: string, fingerprint: string, startsAt: string): Promise<void> {
    this.db
      .prepare('DELETE FROM alert_occurrences WHERE target = ? AND fingerprint = ? AND starts_at = ?')
      .run(target, fingerprint, startsAt);
  }

  async resolveAlertOccurrence(
    target: string,
    fingerprint: string,
    startsAt: string,
    now: number
  ): Promise<number> {
    return this.db
      .prepare(
        `UPDATE alert_occurrences SET resolved_at = ?
         WHERE target = ? AND fingerprint = ? AND resolved_at IS NULL AND (starts_at = ? OR starts_at = '' OR ? = '')`
      )
      .run(now, target, fingerprint, startsAt, startsAt).changes;
  }

  async releaseUnsettledClaims(before: number): Promise<number> {
    return this.db
      .prepare('DELETE FROM alert_occurrences WHERE recommendation_id IS NULL AND first_seen < ?')
      .run(before).changes;
  }

  async listRecommendations(
    opts: { target?: string; status?: RecommendationStatus; limit?: number } = {}
  ): Promise<StoredRecommendation[]> {
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

  async recentRecommendedReplicas(
    target: string,
    since: number
  ): Promise<Array<{ at: number; replicas: number }>> {
    return (
      this.db
        .prepare(
          `SELECT created_at AS at, recommended_replicas AS replicas FROM recommendations
           WHERE target = ? AND kind = 'forecast' AND created_at >= ? ORDER BY created_at`
        )
        .all(target, since) as Array<{ at: number; replicas: number }>
    ).map((r) => ({ at: r.at, replicas: r.replicas }));
  }

  async expireDue(now: number): Promise<number> {
    return this.db
      .prepare(
        `UPDATE recommendations SET status = 'expired', status_at = ? WHERE status = 'pending' AND expires_at <= ?`
      )
      .run(now, now).changes;
  }

  private setStatus(id: string, status: RecommendationStatus, now: number): void {
    this.db.prepare('UPDATE recommendations SET status = ?, status_at = ? WHERE id = ?').run(status, now, id);
  }

  async setRecommendationStatus(id: string, status: RecommendationStatus, now: number): Promise<void> {
    this.setStatus(id, status, now);
  }

  async decideApply(
    recommendationId: string,
    fields: { at: number; actor: string; dryRun: boolean },
    check: (rec: StoredRecommendation | undefined) => StoredRecommendation
  ): Promise<{ record: AuditRecord; existing: boolean }> {
    return this.db
      .transaction(() => {
        const prior = this.applyOf(recommendationId);
        if (prior) return { record: prior, existing: true };
        const rec = check(this.recommendation(recommendationId));
        const busy = this.db
          .prepare(`SELECT * FROM audit WHERE target = ? AND outcome = 'unknown' ORDER BY id LIMIT 1`)
          .get(rec.target) as AuditRow | undefined;
        if (busy) throw new PrescalerError('conflict', busyMessage(rec.target, busy));
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
        return { record: this.audit(id)!, existing: false };
      })
      .immediate();
  }

  async decideAction(fields: AuditDecision): Promise<AuditRecord> {
    return this.audit(this.insertAuditRow(fields))!;
  }

  private insertAuditRow(f: AuditDecision): number {
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

  async finishAudit(
    id: number,
    outcome: 'applied' | 'failed',
    f: { now: number; detail: string; fromReplicas?: number; reconciled?: boolean; errorCode?: string }
  ): Promise<AuditRecord> {
    return this.db.transaction(() => {
      const row = this.audit(id);
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
        this.setStatus(row.recommendationId, outcome === 'applied' ? 'applied' : 'failed', f.now);
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
      return this.audit(id)!;
    })();
  }

  private audit(id: number): AuditRecord | undefined {
    const row = this.db.prepare('SELECT * FROM audit WHERE id = ?').get(id) as AuditRow | undefined;
    return row && toAudit(row);
  }

  async getAudit(id: number): Promise<AuditRecord | undefined> {
    return this.audit(id);
  }

  private applyOf(recommendationId: string): AuditRecord | undefined {
    const row = this.db
      .prepare(`SELECT * FROM audit WHERE recommendation_id = ? AND action = 'apply'`)
      .get(recommendationId) as AuditRow | undefined;
    return row && toAudit(row);
  }

  async auditForRecommendation(recommendationId: string): Promise<AuditRecord | undefined> {
    return this.applyOf(recommendationId);
  }

  async listAudit(opts: { target?: string; limit?: number; before?: number } = {}): Promise<AuditRecord[]> {
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

  async unknownAudits(): Promise<AuditRecord[]> {
    return (
      this.db.prepare(`SELECT * FROM audit WHERE outcome = 'unknown' ORDER BY id`).all() as AuditRow[]
    ).map(toAudit);
  }

  async getDryRunState(target: string): Promise<DryRunState | undefined> {
    const row = this.db.prepare('SELECT state FROM dry_run_state WHERE target = ?').get(target) as
      { state: string } | undefined;
    return row && (JSON.parse(row.state) as DryRunState);
  }

  async setDryRunState(target: string, state: DryRunState): Promise<void> {
    this.db
      .prepare(
        'INSERT INTO dry_run_state (target, state) VALUES (?, ?) ON CONFLICT (target) DO UPDATE SET state = excluded.state'
      )
      .run(target, JSON.stringify(state));
  }
}
