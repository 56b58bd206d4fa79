/**
 * The shared store: PostgreSQL, for several replicas on one database. What SQLite gets from owning its
 * file, this gets from the database: decisions (decideApply, decideAction) and alert claims run in a
 * transaction holding a transaction-scoped advisory lock, so replicas take turns; the unique index
 * audit_one_apply_per_recommendation makes a second apply of a recommendation impossible whatever
 * happens; outcomes are written with a conditional UPDATE (only while `unknown`).
 */
import { Pool, type PoolClient } from 'pg';
import { PrescalerError } from '../errors';
import { POSTGRES_MIGRATIONS } from './migrations';
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

/** Advisory lock keys (one 64-bit space per database, shared with leader election: leader.ts). */
export const LOCK_KEYS = { migrate: 72_651_001, decide: 72_651_002, alerts: 72_651_003 } as const;

type Q = Pick<PoolClient, 'query'>;

export class PostgresStore implements Store {
  readonly kind = 'postgres' as const;
  readonly pool: Pool;

  private constructor(readonly url: string) {
    this.pool = new Pool({ connectionString: url, max: 5, connectionTimeoutMillis: 10_000 });
    // An idle client losing its connection (database restart) must not crash the process.
    this.pool.on('error', () => {});
  }

  /** Connects and runs the migrations this database has not run yet. */
  static async open(url: string): Promise<PostgresStore> {
    const store = new PostgresStore(url);
    try {
      await store.migrate();
    } catch (e) {
      await store.pool.end();
      throw e;
    }
    return store;
  }

  private async migrate(): Promise<void> {
    // Replicas starting together take turns; the second finds the work done.
    await this.tx(LOCK_KEYS.migrate, async (c) => {
      await c.query(
        'CREATE TABLE IF NOT EXISTS prescaler_schema (version INTEGER PRIMARY KEY, at TIMESTAMPTZ NOT NULL DEFAULT now())'
      );
      const done = await this.versionOf(c);
      for (let v = done; v < POSTGRES_MIGRATIONS.length; v++) {
        await c.query(POSTGRES_MIGRATIONS[v]);
        await c.query('INSERT INTO prescaler_schema (version) VALUES ($1)', [v + 1]);
      }
    });
  }

  private async versionOf(c: Q): Promise<number> {
    const r = await c.query<{ v: number | null }>('SELECT max(version) AS v FROM prescaler_schema');
    return r.rows[0].v ?? 0;
  }

  async schemaVersion(): Promise<number> {
    return this.versionOf(this.pool);
  }

  /** Runs fn in one transaction, holding the advisory lock `key` (if given) until it ends. */
  private async tx<T>(key: number | null, fn: (c: PoolClient) => Promise<T>): Promise<T> {
    const c = await this.pool.connect();
    try {
      await c.query('BEGIN');
      if (key !== null) await c.query('SELECT pg_advisory_xact_lock($1)', [key]);
      const out = await fn(c);
      await c.query('COMMIT');
      return out;
    } catch (e) {
      await c.query('ROLLBACK').catch(() => {});
      throw e;
    } finally {
      c.release();
    }
  }

  private closed?: Promise<void>;
  close(): Promise<void> {
    return (this.closed ??= this.pool.end());
  }

  async addRecommendation(rec: StoredRecommendation, supersedes: RecommendationKind[]): Promise<void> {
    await this.tx(null, async (c) => {
      if (supersedes.length) await this.supersede(c, rec.target, supersedes, rec.createdAt);
      await c.query(
        `INSERT INTO recommendations (id, target, kind, created_at, expires_at, current_replicas,
           recommended_replicas, reason, forecast, status, status_at, origin)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
        [
          rec.id,
          rec.target,
          rec.kind,
          rec.createdAt,
          rec.expiresAt,
          rec.currentReplicas,
          rec.recommendedReplicas,
          rec.reason,
          rec.forecast === undefined ? null : JSON.stringify(rec.forecast),
          rec.status,
          rec.statusAt,
          rec.origin,
        ]
      );
    });
  }

  private async supersede(c: Q, target: string, kinds: RecommendationKind[], now: number): Promise<number> {
    const r = await c.query(
      `UPDATE recommendations SET status = 'superseded', status_at = $1
       WHERE target = $2 AND status = 'pending' AND kind = ANY($3::text[])`,
      [now, target, kinds]
    );
    return r.rowCount ?? 0;
  }

  supersedePending(target: string, kinds: RecommendationKind[], now: number): Promise<number> {
    return this.supersede(this.pool, target, kinds, now);
  }

  private async recommendation(c: Q, id: string): Promise<StoredRecommendation | undefined> {
    const r = await c.query<RecommendationRow>('SELECT * FROM recommendations WHERE id = $1', [id]);
    return r.rows[0] && toRecommendation(r.rows[0]);
  }

  getRecommendation(id: string): Promise<StoredRecommendation | undefined> {
    return this.recommendation(this.pool, id);
  }

  private async pending(c: Q, target: string, kind: RecommendationKind) {
    const r = await c.query<RecommendationRow>(
      `SELECT * FROM recommendations WHERE target = $1 AND kind = $2 AND status = 'pending'
       ORDER BY created_at DESC, seq DESC LIMIT 1`,
      [target, kind]
    );
    return r.rows[0] && toRecommendation(r.rows[0]);
  }

  pendingRecommendation(target: string, kind: RecommendationKind) {
    return this.pending(this.pool, target, kind);
  }

  claimAlertOccurrence(
    target: string,
    fingerprint: string,
    startsAt: string,
    now: number
  ): Promise<AlertClaim> {
    const key = [target, fingerprint, startsAt];
    const where = 'target = $1 AND fingerprint = $2 AND starts_at = $3';
    return this.tx(LOCK_KEYS.alerts, async (c): Promise<AlertClaim> => {
      const row = (await c.query<AlertOccurrenceRow>(`SELECT * FROM alert_occurrences WHERE ${where}`, key))
        .rows[0];
      if (row && row.resolved_at === null && row.recommendation_id !== null) {
        const raised = await this.recommendation(c, row.recommendation_id);
        const unused =
          raised?.status === 'superseded' &&
          !(await this.applyOf(c, raised.id)) &&
          !(await this.pending(c, target, 'emergency'));
        if (unused) {
          await c.query(`UPDATE alert_occurrences SET recommendation_id = NULL WHERE ${where}`, key);
          return { claimed: true, replaces: raised.id };
        }
      }
      if (row) {
        // A resolved occurrence with a startsAt stays answered (sqlite.ts says why).
        if (row.resolved_at === null || startsAt !== '')
          return { claimed: false, occurrence: toOccurrence(row) };
        await c.query(`DELETE FROM alert_occurrences WHERE ${where}`, key);
      }
      await c.query(
        'INSERT INTO alert_occurrences (target, fingerprint, starts_at, first_seen) VALUES ($1, $2, $3, $4)',
        [...key, now]
      );
      return { claimed: true };
    });
  }

  async settleAlertOccurrence(
    target: string,
    fingerprint: string,
    startsAt: string,
    recommendationId: string
  ): Promise<void> {
    await this.pool.query(
      'UPDATE alert_occurrences SET recommendation_id = $4 WHERE target = $1 AND fingerprint = $2 AND starts_at = $3',
      [target, fingerprint, startsAt, recommendationId]
    );
  }

  async releaseAlertOccurrence(target: string, fingerprint: string, startsAt: string): Promise<void> {
    await this.pool.query(
      'DELETE FROM alert_occurrences WHERE target = $1 AND fingerprint = $2 AND starts_at = $3',
      [target, fingerprint, startsAt]
    );
  }

  async resolveAlertOccurrence(
    target: string,
    fingerprint: string,
    startsAt: string,
    now: number
  ): Promise<number> {
    const r = await this.pool.query(
      `UPDATE alert_occurrences SET resolved_at = $1
       WHERE target = $2 AND fingerprint = $3 AND resolved_at IS NULL AND (starts_at = $4 OR starts_at = '' OR $4 = '')`,
      [now, target, fingerprint, startsAt]
    );
    return r.rowCount ?? 0;
  }

  async releaseUnsettledClaims(before: number): Promise<number> {
    const r = await this.pool.query(
      'DELETE FROM alert_occurrences WHERE recommendation_id IS NULL AND first_seen < $1',
      [before]
    );
    return r.rowCount ?? 0;
  }

  async listRecommendations(
    opts: { target?: string; status?: RecommendationStatus; limit?: number } = {}
  ): Promise<StoredRecommendation[]> {
    const where: string[] = [];
    const args: unknown[] = [];
    if (opts.target) where.push(`target = $${args.push(opts.target)}`);
    if (opts.status) where.push(`status = $${args.push(opts.status)}`);
    const r = await this.pool.query<RecommendationRow>(
      `SELECT * FROM recommendations ${where.length ? 'WHERE ' + where.join(' AND ') : ''}
       ORDER BY created_at DESC, seq DESC LIMIT $${args.push(opts.limit ?? 100)}`,
      args
    );
    return r.rows.map(toRecommendation);
  }

  async recentRecommendedReplicas(
    target: string,
    since: number
  ): Promise<Array<{ at: number; replicas: number }>> {
    const r = await this.pool.query<{ at: number; replicas: number }>(
      `SELECT created_at AS at, recommended_replicas AS replicas FROM recommendations
       WHERE target = $1 AND kind = 'forecast' AND created_at >= $2 ORDER BY created_at, seq`,
      [target, since]
    );
    return r.rows.map((x) => ({ at: x.at, replicas: x.replicas }));
  }

  async expireDue(now: number): Promise<number> {
    const r = await this.pool.query(
      `UPDATE recommendations SET status = 'expired', status_at = $1 WHERE status = 'pending' AND expires_at <= $1`,
      [now]
    );
    return r.rowCount ?? 0;
  }

  async setRecommendationStatus(id: string, status: RecommendationStatus, now: number): Promise<void> {
    await this.pool.query('UPDATE recommendations SET status = $1, status_at = $2 WHERE id = $3', [
      status,
      now,
      id,
    ]);
  }

  decideApply(
    recommendationId: string,
    fields: { at: number; actor: string; dryRun: boolean },
    check: (rec: StoredRecommendation | undefined) => StoredRecommendation
  ): Promise<{ record: AuditRecord; existing: boolean }> {
    return this.tx(LOCK_KEYS.decide, async (c) => {
      const prior = await this.applyOf(c, recommendationId);
      if (prior) return { record: prior, existing: true };
      const rec = check(await this.recommendation(c, recommendationId));
      const busy = (
        await c.query<AuditRow>(
          `SELECT * FROM audit WHERE target = $1 AND outcome = 'unknown' ORDER BY id LIMIT 1`,
          [rec.target]
        )
      ).rows[0];
      if (busy) throw new PrescalerError('conflict', busyMessage(rec.target, busy));
      await c.query(
        `UPDATE recommendations SET status = 'superseded', status_at = $1
         WHERE target = $2 AND status = 'pending' AND id != $3`,
        [fields.at, rec.target, rec.id]
      );
      const record = await this.insertAudit(c, {
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
      return { record, existing: false };
    });
  }

  decideAction(fields: AuditDecision): Promise<AuditRecord> {
    return this.tx(LOCK_KEYS.decide, (c) => this.insertAudit(c, fields));
  }

  private async insertAudit(c: Q, f: AuditDecision): Promise<AuditRecord> {
    const r = await c.query<AuditRow>(
      `INSERT INTO audit (at, action, actor, target, from_replicas, to_replicas, recommendation_id, outcome, dry_run)
       VALUES ($1, $2, $3, $4, $5, $6, $7, 'unknown', $8) RETURNING *`,
      [f.at, f.action, f.actor, f.target, f.fromReplicas, f.toReplicas, f.recommendationId, f.dryRun ? 1 : 0]
    );
    return toAudit(r.rows[0]);
  }

  finishAudit(
    id: number,
    outcome: 'applied' | 'failed',
    f: { now: number; detail: string; fromReplicas?: number; reconciled?: boolean; errorCode?: string }
  ): Promise<AuditRecord> {
    return this.tx(null, async (c) => {
      const r = await c.query<AuditRow>(
        `UPDATE audit SET outcome = $1, detail = $2, error_code = $3, finished_at = $4,
           from_replicas = COALESCE($5, from_replicas), reconciled = $6
         WHERE id = $7 AND outcome = 'unknown' RETURNING *`,
        [outcome, f.detail, f.errorCode ?? null, f.now, f.fromReplicas ?? null, f.reconciled ? 1 : 0, id]
      );
      if (!r.rows[0]) {
        const settled = await this.audit(c, id);
        if (!settled) throw new Error(`no audit record ${id}`);
        return settled;
      }
      const row = toAudit(r.rows[0]);
      if (row.recommendationId && row.action === 'apply') {
        await c.query('UPDATE recommendations SET status = $1, status_at = $2 WHERE id = $3', [
          outcome === 'applied' ? 'applied' : 'failed',
          f.now,
          row.recommendationId,
        ]);
        if (outcome === 'applied') {
          // The workload changed: other pending advice for it was computed against the old count.
          await c.query(
            `UPDATE recommendations SET status = 'superseded', status_at = $1
             WHERE target = $2 AND status = 'pending' AND id != $3`,
            [f.now, row.target, row.recommendationId]
          );
        }
      }
      return row;
    });
  }

  private async audit(c: Q, id: number): Promise<AuditRecord | undefined> {
    const r = await c.query<AuditRow>('SELECT * FROM audit WHERE id = $1', [id]);
    return r.rows[0] && toAudit(r.rows[0]);
  }

  getAudit(id: number): Promise<AuditRecord | undefined> {
    return this.audit(this.pool, id);
  }

  private async applyOf(c: Q, recommendationId: string): Promise<AuditRecord | undefined> {
    const r = await c.query<AuditRow>(
      `SELECT * FROM audit WHERE recommendation_id = $1 AND action = 'apply'`,
      [recommendationId]
    );
    return r.rows[0] && toAudit(r.rows[0]);
  }

  auditForRecommendation(recommendationId: string): Promise<AuditRecord | undefined> {
    return this.applyOf(this.pool, recommendationId);
  }

  async listAudit(opts: { target?: string; limit?: number; before?: number } = {}): Promise<AuditRecord[]> {
    const where: string[] = [];
    const args: unknown[] = [];
    if (opts.target) where.push(`target = $${args.push(opts.target)}`);
    if (opts.before !== undefined) where.push(`id < $${args.push(opts.before)}`);
    const r = await this.pool.query<AuditRow>(
      `SELECT * FROM audit ${where.length ? 'WHERE ' + where.join(' AND ') : ''}
       ORDER BY id DESC LIMIT $${args.push(opts.limit ?? 100)}`,
      args
    );
    return r.rows.map(toAudit);
  }

  async unknownAudits(): Promise<AuditRecord[]> {
    const r = await this.pool.query<AuditRow>(`SELECT * FROM audit WHERE outcome = 'unknown' ORDER BY id`);
    return r.rows.map(toAudit);
  }

  async getDryRunState(target: string): Promise<DryRunState | undefined> {
    const r = await this.pool.query<{ state: string }>('SELECT state FROM dry_run_state WHERE target = $1', [
      target,
    ]);
    return r.rows[0] && (JSON.parse(r.rows[0].state) as DryRunState);
  }

  async setDryRunState(target: string, state: DryRunState): Promise<void> {
    await this.pool.query(
      'INSERT INTO dry_run_state (target, state) VALUES ($1, $2) ON CONFLICT (target) DO UPDATE SET state = excluded.state',
      [target, JSON.stringify(state)]
    );
  }
}
