/**
 * The alert_occurrences table: one row per occurrence of an alert (fingerprint + startsAt), with the
 * emergency it raised (NULL while a notification claiming it is being handled) and when it resolved.
 */
import * as audit from './audit';
import type { Sql } from './database';
import * as recommendations from './recommendations';
import type { AlertClaim, AlertOccurrence } from './types';

/** A row as both databases return it. */
export interface AlertOccurrenceRow {
  target: string;
  fingerprint: string;
  starts_at: string;
  first_seen: number;
  recommendation_id: string | null;
  resolved_at: number | null;
}

export const toOccurrence = (row: AlertOccurrenceRow): AlertOccurrence => ({
  target: row.target,
  fingerprint: row.fingerprint,
  startsAt: row.starts_at,
  firstSeen: row.first_seen,
  recommendationId: row.recommendation_id,
  resolvedAt: row.resolved_at,
});

const KEY = 'target = $1 AND fingerprint = $2 AND starts_at = $3';

/** Store.claimAlertOccurrence (its rules are written there), inside its transaction (`alerts` lock). */
export async function claim(
  sql: Sql,
  target: string,
  fingerprint: string,
  startsAt: string,
  now: number
): Promise<AlertClaim> {
  const key = [target, fingerprint, startsAt];
  const row = await sql.one<AlertOccurrenceRow>(`SELECT * FROM alert_occurrences WHERE ${KEY}`, key);
  if (row && row.resolved_at === null && row.recommendation_id !== null) {
    const raised = await recommendations.byId(sql, row.recommendation_id);
    const unused =
      raised?.status === 'superseded' &&
      !(await audit.applyOf(sql, raised.id)) &&
      !(await recommendations.pending(sql, target, 'emergency'));
    if (unused) {
      await sql.run(`UPDATE alert_occurrences SET recommendation_id = NULL WHERE ${KEY}`, key);
      return { claimed: true, replaces: raised.id };
    }
  }
  if (row) {
    // A resolved occurrence with a startsAt stays answered: a firing notification for it is a late
    // delivery (a new firing has a new startsAt).
    if (row.resolved_at === null || startsAt !== '') return { claimed: false, occurrence: toOccurrence(row) };
    await sql.run(`DELETE FROM alert_occurrences WHERE ${KEY}`, key);
  }
  await sql.run(
    'INSERT INTO alert_occurrences (target, fingerprint, starts_at, first_seen) VALUES ($1, $2, $3, $4)',
    [...key, now]
  );
  return { claimed: true };
}

/** Records the emergency a claimed occurrence raised. */
export async function settle(
  sql: Sql,
  target: string,
  fingerprint: string,
  startsAt: string,
  recommendationId: string
): Promise<void> {
  await sql.run(`UPDATE alert_occurrences SET recommendation_id = $4 WHERE ${KEY}`, [
    target,
    fingerprint,
    startsAt,
    recommendationId,
  ]);
}

/** Gives a claim back. */
export async function release(
  sql: Sql,
  target: string,
  fingerprint: string,
  startsAt: string
): Promise<void> {
  await sql.run(`DELETE FROM alert_occurrences WHERE ${KEY}`, [target, fingerprint, startsAt]);
}

/** Ends the occurrence, and any of the same alert recorded without a startsAt. */
export function resolve(
  sql: Sql,
  target: string,
  fingerprint: string,
  startsAt: string,
  now: number
): Promise<number> {
  return sql.run(
    `UPDATE alert_occurrences SET resolved_at = $1
     WHERE target = $2 AND fingerprint = $3 AND resolved_at IS NULL AND (starts_at = $4 OR starts_at = '' OR $4 = '')`,
    [now, target, fingerprint, startsAt]
  );
}

/** Drops claims first seen before `before` that never got a recommendation. */
export function releaseUnsettled(sql: Sql, before: number): Promise<number> {
  return sql.run('DELETE FROM alert_occurrences WHERE recommendation_id IS NULL AND first_seen < $1', [
    before,
  ]);
}
