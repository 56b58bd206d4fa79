/**
 * The PostgreSQL election on a real PostgreSQL: one of several electors leads, the others name it; a
 * leader that stops hands over at the next retry; a leader whose session the database ends steps down
 * at its next check, and someone leads again.
 */
import { Client } from 'pg';
import pino from 'pino';
import { startPostgres, type RunningPostgres } from '../../test/helpers/postgres';
import { LEADER_LOCK_KEY, PostgresLeader, SoleLeader } from './leader';

const TIMING = { leaseDuration: 3, renewDeadline: 2, retryPeriod: 0.2 };
const logger = pino({ level: 'silent' });
let pg: RunningPostgres;
let db: string;
const electors: PostgresLeader[] = [];

beforeAll(async () => {
  pg = await startPostgres();
}, 60_000);
afterAll(() => pg?.stop());
beforeEach(async () => {
  db = await pg.createDatabase();
});
afterEach(async () => {
  await Promise.all(electors.splice(0).map((e) => e.stop()));
});

function elector(identity: string): PostgresLeader {
  const e = new PostgresLeader(db, identity, TIMING, logger);
  electors.push(e);
  return e;
}

async function until(cond: () => boolean | Promise<boolean>, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 50));
  }
}

const leaders = (es: PostgresLeader[]) => es.filter((e) => e.isLeader());

it('elects exactly one of three, which every one names', async () => {
  const es = ['a', 'b', 'c'].map(elector);
  const changes: string[] = [];
  for (const e of es) e.onChange((l) => changes.push(`${e.identity}:${l}`));
  es.forEach((e) => e.start());
  await until(() => leaders(es).length === 1);
  await new Promise((r) => setTimeout(r, 600)); // three more retries: still one
  expect(leaders(es)).toHaveLength(1);
  const id = leaders(es)[0].identity;
  expect(await Promise.all(es.map((e) => e.leader()))).toEqual([id, id, id]);
  expect(changes).toEqual([`${id}:true`]);
});

it('hands over at the next retry when the leader stops', async () => {
  const [a, b] = [elector('a'), elector('b')];
  a.start();
  await until(() => a.isLeader());
  b.start();
  await new Promise((r) => setTimeout(r, 500));
  expect(b.isLeader()).toBe(false);
  await a.stop();
  expect(a.isLeader()).toBe(false);
  await until(() => b.isLeader(), 1000);
  expect(await b.leader()).toBe('b');
});

it('steps down when the database ends its session, and leadership is taken again', async () => {
  const [a, b] = [elector('a'), elector('b')];
  const changes: string[] = [];
  a.onChange((l) => changes.push(`a:${l}`));
  a.start();
  await until(() => a.isLeader());
  b.start();
  // An administrator (or a failover of the database) ends the leader's session: its lock is gone.
  const admin = new Client({ connectionString: db });
  await admin.connect();
  await admin.query(
    `SELECT pg_terminate_backend(l.pid) FROM pg_locks l
     WHERE l.locktype = 'advisory' AND l.granted AND l.objid::bigint = $1`,
    [LEADER_LOCK_KEY]
  );
  await admin.end();
  await until(() => changes.includes('a:false'), 3000);
  await until(() => leaders([a, b]).length === 1, 3000);
});

it('sole: the only process on a SQLite file leads from start to stop', async () => {
  const s = new SoleLeader('only_1');
  expect(s.isLeader()).toBe(false);
  s.start();
  expect(s.isLeader()).toBe(true);
  expect(await s.leader()).toBe('only_1');
  await s.stop();
  expect(s.isLeader()).toBe(false);
});
