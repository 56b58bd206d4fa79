/**
 * The one database a store runs on, as the table modules (recommendations.ts, audit.ts,
 * alert-occurrences.ts, dry-run-state.ts) see it. Their SQL is written once, in the subset both engines
 * share, with PostgreSQL's numbered placeholders ($1, $2, …; sqlite.ts rewrites them for SQLite). A backend
 * (sqlite.ts, postgres.ts) implements this and nothing else: how to run a statement, how to hold a
 * transaction, how its migrations are tracked.
 */

/** Runs statements: on the database (each on its own), or inside one transaction. */
export interface Sql {
  /** Breaks created_at ties by insertion order: SQLite's rowid, PostgreSQL's seq column. */
  readonly insertionOrder: 'rowid' | 'seq';
  /** Every row the statement returns. */
  all<T>(text: string, args?: readonly unknown[]): Promise<T[]>;
  /** Its first row, if any. */
  one<T>(text: string, args?: readonly unknown[]): Promise<T | undefined>;
  /** Runs a statement that returns no rows; how many rows it changed. */
  run(text: string, args?: readonly unknown[]): Promise<number>;
}

/**
 * What a transaction serialises against, across every process sharing the database: `decide` (an
 * action's decided half, audit.ts) and `alerts` (claiming an alert occurrence). SQLite has one owning
 * process and runs one transaction at a time anyway.
 */
export type Lock = 'decide' | 'alerts';

export interface Database extends Sql {
  readonly kind: 'sqlite' | 'postgres';
  /**
   * Runs fn in one transaction (holding `lock` until it ends, if given): committed when fn resolves,
   * rolled back when it throws. fn must run its statements on the `Sql` it is given.
   */
  transaction<T>(lock: Lock | null, fn: (sql: Sql) => Promise<T>): Promise<T>;
  /** How many migrations (migrations.ts) this database has run. */
  schemaVersion(): Promise<number>;
  close(): Promise<void>;
}

/** `$first, $first+1, …` for a list of n values (an IN list). */
export const placeholders = (first: number, n: number) =>
  Array.from({ length: n }, (_, i) => `$${first + i}`).join(', ');
