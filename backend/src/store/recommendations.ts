/**
 * The recommendations table: each recommendation with its lifecycle (pending → applied, expired,
 * superseded or failed), and the one operation that supersedes pending ones (supersedePending), which
 * adding, deciding and applying all go through.
 */
import { z } from 'zod';
import { placeholders, type Sql } from './database';
import {
  REPLICA_LIMITS,
  type ForecastBasis,
  type RecommendationKind,
  type RecommendationStatus,
  type StoredRecommendation,
} from './types';

/** A row as both databases return it. */
export interface RecommendationRow {
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

const forecastBasisSchema = z.object({
  quantile: z.string(),
  demand: z.number(),
  demandAt: z.number(),
  leadTime: z.number(),
  peakFactor: z.number().optional(),
  utilization: z.number().optional(),
  desiredReplicas: z.number(),
  limitedBy: z.array(z.enum(REPLICA_LIMITS)),
  model: z.string(),
  points: z.array(z.tuple([z.number(), z.number(), z.number(), z.number()])),
}) satisfies z.ZodType<ForecastBasis>;

/**
 * The forecast column read back: a ForecastBasis, or null (an emergency has none; a value that is not
 * a basis, say one written by hand, reads as none rather than as something the code would trust).
 * Other keys a basis may carry are kept, so the API serves what was written.
 */
export function parseForecastBasis(text: string | null): ForecastBasis | null {
  if (text === null) return null;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return null;
  }
  const parsed = forecastBasisSchema.passthrough().safeParse(value);
  return parsed.success ? (value as ForecastBasis) : null;
}

export const toRecommendation = (r: RecommendationRow): StoredRecommendation => ({
  id: r.id,
  target: r.target,
  kind: r.kind,
  createdAt: r.created_at,
  expiresAt: r.expires_at,
  currentReplicas: r.current_replicas,
  recommendedReplicas: r.recommended_replicas,
  reason: r.reason,
  forecast: parseForecastBasis(r.forecast),
  status: r.status,
  statusAt: r.status_at,
  origin: r.origin,
});

export async function insert(sql: Sql, rec: StoredRecommendation): Promise<void> {
  await sql.run(
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
      rec.forecast === null || rec.forecast === undefined ? null : JSON.stringify(rec.forecast),
      rec.status,
      rec.statusAt,
      rec.origin,
    ]
  );
}

/**
 * Marks a target's pending recommendations superseded at `now`: those of the kinds given (every kind
 * when `kinds` is absent), except the one named by `except`. How many it marked.
 */
export async function supersedePending(
  sql: Sql,
  target: string,
  now: number,
  which: { kinds?: readonly RecommendationKind[]; except?: string } = {}
): Promise<number> {
  const { kinds, except } = which;
  if (kinds && !kinds.length) return 0;
  const args: unknown[] = [now, target];
  let where = `target = $2 AND status = 'pending'`;
  if (kinds) {
    where += ` AND kind IN (${placeholders(args.length + 1, kinds.length)})`;
    args.push(...kinds);
  }
  if (except !== undefined) where += ` AND id != $${args.push(except)}`;
  return sql.run(`UPDATE recommendations SET status = 'superseded', status_at = $1 WHERE ${where}`, args);
}

export async function byId(sql: Sql, id: string): Promise<StoredRecommendation | undefined> {
  const row = await sql.one<RecommendationRow>('SELECT * FROM recommendations WHERE id = $1', [id]);
  return row && toRecommendation(row);
}

/** The newest pending recommendation of a kind for a target. */
export async function pending(
  sql: Sql,
  target: string,
  kind: RecommendationKind
): Promise<StoredRecommendation | undefined> {
  const row = await sql.one<RecommendationRow>(
    `SELECT * FROM recommendations WHERE target = $1 AND kind = $2 AND status = 'pending'
     ORDER BY created_at DESC, ${sql.insertionOrder} DESC LIMIT 1`,
    [target, kind]
  );
  return row && toRecommendation(row);
}

/** Newest first (insertion order among equal times). */
export async function list(
  sql: Sql,
  opts: { target?: string; status?: RecommendationStatus; limit?: number } = {}
): Promise<StoredRecommendation[]> {
  const where: string[] = [];
  const args: unknown[] = [];
  if (opts.target) where.push(`target = $${args.push(opts.target)}`);
  if (opts.status) where.push(`status = $${args.push(opts.status)}`);
  const rows = await sql.all<RecommendationRow>(
    `SELECT * FROM recommendations ${where.length ? 'WHERE ' + where.join(' AND ') : ''}
     ORDER BY created_at DESC, ${sql.insertionOrder} DESC LIMIT $${args.push(opts.limit ?? 100)}`,
    args
  );
  return rows.map(toRecommendation);
}

/** Pending recommendations whose time is up become expired. */
export function expireDue(sql: Sql, now: number): Promise<number> {
  return sql.run(
    `UPDATE recommendations SET status = 'expired', status_at = $1 WHERE status = 'pending' AND expires_at <= $1`,
    [now]
  );
}

export async function setStatus(
  sql: Sql,
  id: string,
  status: RecommendationStatus,
  now: number
): Promise<void> {
  await sql.run('UPDATE recommendations SET status = $1, status_at = $2 WHERE id = $3', [status, now, id]);
}
