/**
 * The durable record of what Prescaler recommended and did: recommendations with their lifecycle, the
 * audit log (written before acting and again after), the alert occurrences already answered with an
 * emergency, and the dry-run actuator's remembered state. `PRESCALER_DB` picks the store: a file path
 * for SQLite (sqlite.ts, one replica), a postgres:// URL for PostgreSQL (postgres.ts, any number).
 *
 * One module per table, its SQL written once for both databases: recommendations.ts (with the one
 * supersede operation), audit.ts (an action's decided and finished halves), alert-occurrences.ts,
 * dry-run-state.ts. sql-store.ts is the Store over them; a backend supplies only a Database
 * (database.ts: statements, transactions, locks) and its migrations (migrations.ts).
 */
import { PostgresStore } from './postgres';
import { SqliteStore } from './sqlite';
import type { Store } from './types';

export * from './types';

export const isPostgresUrl = (db: string) => /^postgres(ql)?:\/\//i.test(db.trim());

/** Opens (and migrates) the store PRESCALER_DB names. */
export async function openStore(db: string): Promise<Store> {
  return isPostgresUrl(db) ? PostgresStore.open(db.trim()) : new SqliteStore(db);
}
