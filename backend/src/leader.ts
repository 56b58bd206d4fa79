/**
 * Leader election: exactly one replica runs the evaluation loop (recommendations, floor reverts,
 * reconciliation of `unknown` records); every replica serves reads and applies. Three durations as in
 * client-go's tools/leaderelection: a lease lasts `leaseDuration`, the leader gives up if it could not
 * renew within `renewDeadline`, and everyone retries every `retryPeriod`.
 *
 * - `sole`: the only process on a SQLite file (sqlite.ts refuses a second one), always the leader.
 * - `postgres`: a session-level advisory lock on a dedicated connection. PostgreSQL releases it when
 *   that session ends, however the process died (a SIGKILL closes the socket); the leader checks its
 *   session every retryPeriod and steps down when a check fails or takes longer than renewDeadline.
 *   Followers find the holder's identity in pg_locks/pg_stat_activity (its application_name).
 * - `kubernetes`: a coordination.k8s.io/v1 Lease (leader-lease.ts).
 */
import { Client } from 'pg';
import type { Logger } from 'pino';

export interface ElectionTiming {
  /** Seconds a lease stays valid without renewal (client-go default 15). */
  leaseDuration: number;
  /** Seconds the leader keeps trying to renew before it gives up leading (default 10). */
  renewDeadline: number;
  /** Seconds between attempts to acquire or renew (default 2). */
  retryPeriod: number;
}

export const DEFAULT_TIMING: ElectionTiming = { leaseDuration: 15, renewDeadline: 10, retryPeriod: 2 };

export interface LeaderElector {
  readonly kind: 'sole' | 'postgres' | 'kubernetes';
  /** This replica's identity (POD_NAME or host name, and the process id). */
  readonly identity: string;
  isLeader(): boolean;
  /** The current leader's identity as last seen; null when none is known. */
  leader(): Promise<string | null>;
  /** Called with true on becoming leader, false on losing it (also on stop while leading). */
  onChange(cb: (leading: boolean) => void): void;
  start(): void;
  /** Stops trying; a leader releases its lock or lease so another replica takes over at once. */
  stop(): Promise<void>;
}

export abstract class BaseElector {
  protected leading = false;
  private readonly listeners: Array<(leading: boolean) => void> = [];

  onChange(cb: (leading: boolean) => void): void {
    this.listeners.push(cb);
  }

  isLeader(): boolean {
    return this.leading;
  }

  protected set(leading: boolean): void {
    if (leading === this.leading) return;
    this.leading = leading;
    for (const cb of this.listeners) cb(leading);
  }
}

/** The single process on a SQLite file: leader from start to stop. */
export class SoleLeader extends BaseElector implements LeaderElector {
  readonly kind = 'sole' as const;
  constructor(readonly identity: string) {
    super();
  }
  async leader(): Promise<string | null> {
    return this.leading ? this.identity : null;
  }
  start(): void {
    this.set(true);
  }
  async stop(): Promise<void> {
    this.set(false);
  }
}

/** The advisory lock key for leadership (store/postgres.ts lists the store's own keys). */
export const LEADER_LOCK_KEY = 72_651_000;

export class PostgresLeader extends BaseElector implements LeaderElector {
  readonly kind = 'postgres' as const;
  private client?: Client;
  private timer?: NodeJS.Timeout;
  private stopped = true;
  private ticking?: Promise<void>;

  constructor(
    private readonly url: string,
    readonly identity: string,
    private readonly timing: ElectionTiming,
    private readonly logger: Logger
  ) {
    super();
  }

  start(): void {
    this.stopped = false;
    const loop = () => {
      this.ticking = this.tick().finally(() => {
        this.ticking = undefined;
        if (!this.stopped) {
          this.timer = setTimeout(loop, this.timing.retryPeriod * 1000);
          this.timer.unref();
        }
      });
    };
    loop();
  }

  private async connect(): Promise<Client> {
    const c = new Client({
      connectionString: this.url,
      // Shown in pg_stat_activity: how followers learn who leads.
      application_name: `prescaler ${this.identity}`.slice(0, 63),
      query_timeout: this.timing.renewDeadline * 1000,
      connectionTimeoutMillis: this.timing.renewDeadline * 1000,
      keepAlive: true,
    });
    c.on('error', () => this.drop('the election connection failed'));
    await c.connect();
    return c;
  }

  /** Forgets the session (and with it the lock); steps down if leading. */
  private drop(why: string): void {
    const c = this.client;
    this.client = undefined;
    c?.end().catch(() => {});
    if (this.leading) {
      this.logger.error({ identity: this.identity, why }, 'lost leadership');
      this.set(false);
    }
  }

  private async tick(): Promise<void> {
    try {
      this.client ??= await this.connect();
      if (this.leading) {
        await this.client.query('SELECT 1');
        return;
      }
      const r = await this.client.query<{ ok: boolean }>('SELECT pg_try_advisory_lock($1) AS ok', [
        LEADER_LOCK_KEY,
      ]);
      if (r.rows[0].ok && !this.stopped) {
        this.logger.info({ identity: this.identity }, 'became leader');
        this.set(true);
      }
    } catch (e) {
      this.drop((e as Error).message);
    }
  }

  async leader(): Promise<string | null> {
    if (this.leading) return this.identity;
    const c = this.client;
    if (!c) return null;
    try {
      const r = await c.query<{ name: string }>(
        `SELECT a.application_name AS name FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
         WHERE l.locktype = 'advisory' AND l.granted AND l.classid = 0 AND l.objid::bigint = $1
           AND l.objsubid = 1 AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())`,
        [LEADER_LOCK_KEY]
      );
      const name = r.rows[0]?.name;
      return name ? name.replace(/^prescaler /, '') : null;
    } catch {
      return null;
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.ticking;
    const c = this.client;
    this.client = undefined;
    this.set(false);
    // Ending the session releases the lock: a follower takes over at its next retry.
    await c?.end().catch(() => {});
  }
}
