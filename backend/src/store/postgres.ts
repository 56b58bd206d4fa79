/**
 * The shared store: PostgreSQL, for several replicas on one database. What SQLite gets from owning its
 * file, this gets from the database: decisions (decideApply, decideAction) and alert claims run in a
 * transaction holding a transaction-scoped advisory lock, so replicas take turns; the unique index
 * audit_one_apply_per_recommendation makes a second apply of a recommendation impossible whatever
 * happens; outcomes are written with a conditional UPDATE (only while `unknown`). The tables' SQL is
 * shared with SQLite (sql-store.ts).
 */
import { Pool, type PoolClient } from 'pg';
import type { Database, Lock, Sql } from './database';
import { POSTGRES_MIGRATIONS } from './migrations';
import { SqlStore } from './sql-store';

/** Advisory lock keys (one 64-bit space per database, shared with leader election: leader.ts). */
export const LOCK_KEYS = { migrate: 72_651_001, decide: 72_651_002, alerts: 72_651_003 } as const;

type Q = Pick<PoolClient, 'query'>;

/** A pool (or one client, inside a transaction) as the table modules' Sql. */
function sqlOn(c: Q): Sql {
  return {
    insertionOrder: 'seq',
    all: async <T>(text: string, args?: readonly unknown[]) =>
      (await c.query(text, args as unknown[])).rows as T[],
    one: async <T>(text: string, args?: readonly unknown[]) =>
      (await c.query(text, args as unknown[])).rows[0] as T | undefined,
    run: async (text: string, args?: readonly unknown[]) =>
      (await c.query(text, args as unknown[])).rowCount ?? 0,
  };
}

/** A PostgreSQL database as a Database (database.ts): a small pool, advisory locks for `Lock`s. */
export class PostgresDatabase implements Database {
  readonly kind = 'postgres' as const;
  readonly insertionOrder = 'seq' as const;
  readonly pool: Pool;
  private readonly onPool: Sql;

  constructor(readonly url: string) {
    this.pool = new Pool({ connectionString: url, max: 5, connectionTimeoutMillis: 10_000 });
    // An idle client losing its connection (database restart) must not crash the process.
    this.pool.on('error', () => {});
    this.onPool = sqlOn(this.pool);
  }

  all<T>(text: string, args?: readonly unknown[]): Promise<T[]> {
    return this.onPool.all<T>(text, args);
  }

  one<T>(text: string, args?: readonly unknown[]): Promise<T | undefined> {
    return this.onPool.one<T>(text, args);
  }

  run(text: string, args?: readonly unknown[]): Promise<number> {
    return this.onPool.run(text, args);
  }

  /** Runs the migrations this database has not run yet. */
  async migrate(): Promise<void> {
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

  schemaVersion(): Promise<number> {
    return this.versionOf(this.pool);
  }

  transaction<T>(lock: Lock | null, fn: (sql: Sql) => Promise<T>): Promise<T> {
    return this.tx(lock === null ? null : LOCK_KEYS[lock], (c) => fn(sqlOn(c)));
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
}

export class PostgresStore extends SqlStore {
  readonly kind = 'postgres' as const;
  readonly pool: Pool;

  private constructor(private readonly pg: PostgresDatabase) {
    super(pg);
    this.pool = pg.pool;
  }

  get url(): string {
    return this.pg.url;
  }

  /** Connects and runs the migrations this database has not run yet. */
  static async open(url: string): Promise<PostgresStore> {
    const store = new PostgresStore(new PostgresDatabase(url));
    try {
      await store.pg.migrate();
    } catch (e) {
      await store.pool.end();
      throw e;
    }
    return store;
  }
}
