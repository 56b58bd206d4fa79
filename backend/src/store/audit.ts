/**
 * The audit table, and the two halves of an action written to it: decided (a row with outcome
 * `unknown`, committed before anything touches the cluster) and finished (the outcome, written only
 * while it is still `unknown`). Deciding and applying supersede the target's other pending
 * recommendations (recommendations.ts supersedePending).
 */
import { PrescalerError } from '../errors';
import type { Sql } from './database';
import * as recommendations from './recommendations';
import type { AuditAction, AuditDecision, AuditOutcome, AuditRecord, StoredRecommendation } from './types';

/** A row as both databases return it. */
export interface AuditRow {
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

export const toAudit = (r: AuditRow): AuditRecord => ({
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

/** The message decideApply refuses with while another action on the target has no outcome. */
export const busyMessage = (target: string, busy: AuditRow) =>
  `${target} has an action without an outcome yet (audit record ${busy.id}: ` +
  `${busy.recommendation_id ? `${busy.action} of ${busy.recommendation_id}` : busy.action} by ` +
  `${busy.actor}); it is in flight or awaits reconciliation with the cluster. Nothing was written; ` +
  'try again when it has finished';

/** Writes a decided row (outcome `unknown`). */
export async function insert(sql: Sql, f: AuditDecision): Promise<AuditRecord> {
  const row = await sql.one<AuditRow>(
    `INSERT INTO audit (at, action, actor, target, from_replicas, to_replicas, recommendation_id, outcome, dry_run)
     VALUES ($1, $2, $3, $4, $5, $6, $7, 'unknown', $8) RETURNING *`,
    [f.at, f.action, f.actor, f.target, f.fromReplicas, f.toReplicas, f.recommendationId, f.dryRun ? 1 : 0]
  );
  return toAudit(row!);
}

export async function byId(sql: Sql, id: number): Promise<AuditRecord | undefined> {
  const row = await sql.one<AuditRow>('SELECT * FROM audit WHERE id = $1', [id]);
  return row && toAudit(row);
}

/** The apply recorded for a recommendation (at most one: audit_one_apply_per_recommendation). */
export async function applyOf(sql: Sql, recommendationId: string): Promise<AuditRecord | undefined> {
  const row = await sql.one<AuditRow>(
    `SELECT * FROM audit WHERE recommendation_id = $1 AND action = 'apply'`,
    [recommendationId]
  );
  return row && toAudit(row);
}

/** Store.decideApply, inside its transaction (held under the `decide` lock). */
export async function decideApply(
  sql: Sql,
  recommendationId: string,
  fields: { at: number; actor: string; dryRun: boolean },
  check: (rec: StoredRecommendation | undefined) => StoredRecommendation
): Promise<{ record: AuditRecord; existing: boolean }> {
  const prior = await applyOf(sql, recommendationId);
  if (prior) return { record: prior, existing: true };
  const rec = check(await recommendations.byId(sql, recommendationId));
  const busy = await sql.one<AuditRow>(
    `SELECT * FROM audit WHERE target = $1 AND outcome = 'unknown' ORDER BY id LIMIT 1`,
    [rec.target]
  );
  if (busy) throw new PrescalerError('conflict', busyMessage(rec.target, busy));
  await recommendations.supersedePending(sql, rec.target, fields.at, { except: rec.id });
  const record = await insert(sql, {
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
}

/** Store.finishAudit, inside its transaction. */
export async function finish(
  sql: Sql,
  id: number,
  outcome: 'applied' | 'failed',
  f: { now: number; detail: string; fromReplicas?: number; reconciled?: boolean; errorCode?: string }
): Promise<AuditRecord> {
  const updated = await sql.one<AuditRow>(
    `UPDATE audit SET outcome = $1, detail = $2, error_code = $3, finished_at = $4,
       from_replicas = COALESCE($5, from_replicas), reconciled = $6
     WHERE id = $7 AND outcome = 'unknown' RETURNING *`,
    [outcome, f.detail, f.errorCode ?? null, f.now, f.fromReplicas ?? null, f.reconciled ? 1 : 0, id]
  );
  if (!updated) {
    const settled = await byId(sql, id);
    if (!settled) throw new Error(`no audit record ${id}`);
    return settled;
  }
  const row = toAudit(updated);
  if (row.recommendationId && row.action === 'apply') {
    await recommendations.setStatus(
      sql,
      row.recommendationId,
      outcome === 'applied' ? 'applied' : 'failed',
      f.now
    );
    // The workload changed: other pending advice for it was computed against the old count.
    if (outcome === 'applied')
      await recommendations.supersedePending(sql, row.target, f.now, { except: row.recommendationId });
  }
  return row;
}

/** Newest first; `before` pages by id. */
export async function list(
  sql: Sql,
  opts: { target?: string; limit?: number; before?: number } = {}
): Promise<AuditRecord[]> {
  const where: string[] = [];
  const args: unknown[] = [];
  if (opts.target) where.push(`target = $${args.push(opts.target)}`);
  if (opts.before !== undefined) where.push(`id < $${args.push(opts.before)}`);
  const rows = await sql.all<AuditRow>(
    `SELECT * FROM audit ${where.length ? 'WHERE ' + where.join(' AND ') : ''}
     ORDER BY id DESC LIMIT $${args.push(opts.limit ?? 100)}`,
    args
  );
  return rows.map(toAudit);
}

/** Rows still without an outcome, oldest first. */
export async function unknown(sql: Sql): Promise<AuditRecord[]> {
  return (await sql.all<AuditRow>(`SELECT * FROM audit WHERE outcome = 'unknown' ORDER BY id`)).map(toAudit);
}
