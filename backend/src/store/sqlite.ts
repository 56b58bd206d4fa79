/**
 * The embedded store: SQLite in WAL mode with synchronous=FULL, so a committed row survives a crash or
 * power loss. One process owns the file (claimFile refuses a second), and within it one transaction runs
 * at a time (SqliteDatabase queues the rest, and every statement asked for meanwhile), so a transaction
 * is atomic without further locking. The tables' SQL is shared with PostgreSQL (sql-store.ts).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import Database from 'better-sqlite3';
import type { Database as Db, Lock, Sql } from './database';
import { SQLITE_MIGRATIONS } from './migrations';
import { SqlStore } from './sql-store';

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

/**
 * The SQLite file as a Database (database.ts). better-sqlite3 answers at once; a transaction's body is
 * async (the table modules are shared with PostgreSQL), so while one is open every other statement and
 * transaction waits its turn rather than running inside it.
 */
export class SqliteDatabase implements Db {
  readonly kind = 'sqlite' as const;
  readonly insertionOrder = 'rowid' as const;
  readonly db: Database.Database;
  /** `<file>.lock`, held in an exclusive transaction for as long as this database is open. */
  private readonly owner?: Database.Database;
  /** $n placeholders rewritten to ?, and the argument each ? takes. */
  private readonly statements = new Map<string, { stmt: Database.Statement; order: number[] }>();
  private busy = false;
  private readonly waiting: Array<() => void> = [];
  /** Statements inside the open transaction: they run at once. */
  private readonly inside: Sql = {
    insertionOrder: this.insertionOrder,
    all: (text, args) => settled(() => this.all_(text, args)),
    one: (text, args) => settled(() => this.one_(text, args)),
    run: (text, args) => settled(() => this.run_(text, args)),
  };

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

  private prepared(text: string, args: readonly unknown[] = []) {
    let s = this.statements.get(text);
    if (!s) {
      const order: number[] = [];
      const stmt = this.db.prepare(
        text.replace(/\$(\d+)/g, (_, n: string) => (order.push(Number(n) - 1), '?'))
      );
      this.statements.set(text, (s = { stmt, order }));
    }
    return { stmt: s.stmt, args: s.order.map((i) => args[i]) };
  }

  private all_<T>(text: string, args?: readonly unknown[]): T[] {
    const p = this.prepared(text, args);
    return p.stmt.all(...p.args) as T[];
  }

  private one_<T>(text: string, args?: readonly unknown[]): T | undefined {
    const p = this.prepared(text, args);
    return p.stmt.get(...p.args) as T | undefined;
  }

  private run_(text: string, args?: readonly unknown[]): number {
    const p = this.prepared(text, args);
    return p.stmt.run(...p.args).changes;
  }

  all<T>(text: string, args?: readonly unknown[]): Promise<T[]> {
    return this.turn(() => this.all_<T>(text, args));
  }

  one<T>(text: string, args?: readonly unknown[]): Promise<T | undefined> {
    return this.turn(() => this.one_<T>(text, args));
  }

  run(text: string, args?: readonly unknown[]): Promise<number> {
    return this.turn(() => this.run_(text, args));
  }

  /** Runs a statement now, or after the open transaction (and any queued before it). */
  private turn<T>(fn: () => T): Promise<T> {
    if (!this.busy) return settled(fn);
    return this.exclusive(async () => fn());
  }

  private async exclusive<T>(fn: () => Promise<T>): Promise<T> {
    if (this.busy) await new Promise<void>((r) => this.waiting.push(r));
    else this.busy = true;
    try {
      return await fn();
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.busy = false;
    }
  }

  /** `lock` needs nothing here: transactions already run one at a time. */
  transaction<T>(_lock: Lock | null, fn: (sql: Sql) => Promise<T>): Promise<T> {
    return this.exclusive(async () => {
      this.db.exec('BEGIN IMMEDIATE');
      try {
        const out = await fn(this.inside);
        this.db.exec('COMMIT');
        return out;
      } catch (e) {
        if (this.db.inTransaction) this.db.exec('ROLLBACK');
        throw e;
      }
    });
  }
}

/** fn's answer, or its exception, as a promise. */
function settled<T>(fn: () => T): Promise<T> {
  try {
    return Promise.resolve(fn());
  } catch (e) {
    return Promise.reject(e);
  }
}

export class SqliteStore extends SqlStore {
  readonly kind = 'sqlite' as const;
  /** The better-sqlite3 connection (tests reach into it). */
  readonly db: Database.Database;

  constructor(file: string) {
    const database = new SqliteDatabase(file);
    super(database);
    this.db = database.db;
  }
}
