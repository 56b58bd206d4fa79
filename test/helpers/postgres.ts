/**
 * A real PostgreSQL for the tests, from Debian's postgresql package: initdb into a temp dir, pg_ctl start
 * on a free loopback port (no Unix socket), trust authentication for loopback. Run as the `postgres`
 * user when the tests run as root (initdb refuses root). Each test takes a fresh database from
 * createDatabase(), so tests never see each other's rows.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Client } from 'pg';

export interface RunningPostgres {
  port: number;
  /** postgres://postgres@127.0.0.1:PORT/DB */
  url(db: string): string;
  /** A new empty database; its URL. */
  createDatabase(): Promise<string>;
  /** Stops the server immediately (pg_ctl -m immediate) and removes its directory. */
  stop(): Promise<void>;
}

/** The newest installed server's bin directory (/usr/lib/postgresql/<ver>/bin). */
export function postgresBinDir(): string {
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root)
    ? readdirSync(root)
        .filter((v) => existsSync(path.join(root, v, 'bin', 'pg_ctl')))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  if (!versions.length)
    throw new Error('PostgreSQL is not installed: apt-get install postgresql (scripts/ensure-tools.sh does)');
  return path.join(root, versions[0], 'bin');
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

let databases = 0;

export async function startPostgres(): Promise<RunningPostgres> {
  const bin = postgresBinDir();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'prescaler-pg-'));
  const data = path.join(dir, 'data');
  const asRoot = process.getuid?.() === 0;
  const user = asRoot ? execFileSync('id', ['-u', 'postgres']).toString().trim() : undefined;
  const group = asRoot ? execFileSync('id', ['-g', 'postgres']).toString().trim() : undefined;
  if (asRoot) {
    chmodSync(dir, 0o777);
  }
  const run = (cmd: string, args: string[]) => {
    const r = spawnSync(path.join(bin, cmd), args, {
      uid: user ? Number(user) : undefined,
      gid: group ? Number(group) : undefined,
      encoding: 'utf8',
      cwd: dir,
    });
    if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed: ${r.stderr || r.stdout}`);
  };
  run('initdb', ['-D', data, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-sync']);
  const port = await freePort();
  run('pg_ctl', [
    '-D',
    data,
    '-l',
    path.join(dir, 'log'),
    '-w',
    '-t',
    '30',
    '-o',
    `-p ${port} -h 127.0.0.1 -k '' -c fsync=off -c max_connections=200`,
    'start',
  ]);
  const url = (db: string) => `postgres://postgres@127.0.0.1:${port}/${db}`;
  let stopped = false;
  return {
    port,
    url,
    async createDatabase() {
      const name = `t${process.pid}_${++databases}`;
      const c = new Client({ connectionString: url('postgres') });
      await c.connect();
      try {
        await c.query(`CREATE DATABASE ${name}`);
      } finally {
        await c.end();
      }
      return url(name);
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      try {
        run('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}
