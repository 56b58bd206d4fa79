/**
 * Both stores behind one interface, on a real SQLite file and a real PostgreSQL: migrations at start
 * (idempotent, and safe when replicas start together), and at most one apply per recommendation when
 * several connections (standing in for replicas) decide it at once.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Client } from 'pg';
import { startPostgres, type RunningPostgres } from '../../../test/helpers/postgres';
import { PrescalerError } from '../errors';
import { POSTGRES_MIGRATIONS, SQLITE_MIGRATIONS } from './migrations';
import { openStore, type Store, type StoredRecommendation } from './store';

let pg: RunningPostgres;
let dir: string;
const opened: Store[] = [];

beforeAll(async () => {
  pg = await startPostgres();
}, 60_000);
afterAll(() => pg?.stop());
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'prescaler-store-'));
});
afterEach(async () => {
  await Promise.all(opened.splice(0).map((s) => s.close()));
  fs.rmSync(dir, { recursive: true, force: true });
});

const BACKENDS = ['sqlite', 'postgres'] as const;
const newDb = async (kind: (typeof BACKENDS)[number]) =>
  kind === 'sqlite' ? path.join(dir, 'prescaler.db') : pg.createDatabase();
const open = async (db: string) => {
  const s = await openStore(db);
  opened.push(s);
  return s;
};

const rec = (over: Partial<StoredRecommendation> = {}): StoredRecommendation => ({
  id: 'rec-1',
  target: 'web',
  kind: 'forecast',
  createdAt: 1000,
  expiresAt: 1900,
  currentReplicas: 2,
  recommendedReplicas: 5,
  reason: 'test',
  forecast: { points: [[1, 2]] },
  status: 'pending',
  statusAt: 1000,
  origin: null,
  ...over,
});

describe.each(BACKENDS)('%s', (kind) => {
  const migrations = kind === 'sqlite' ? SQLITE_MIGRATIONS : POSTGRES_MIGRATIONS;

  it('migrates a new database at start, and a second start changes nothing', async () => {
    const db = await newDb(kind);
    const a = await open(db);
    expect(a.kind).toBe(kind);
    expect(await a.schemaVersion()).toBe(migrations.length);
    await a.addRecommendation(rec(), []);
    await a.close();
    const b = await open(db);
    expect(await b.schemaVersion()).toBe(migrations.length);
    expect(await b.getRecommendation('rec-1')).toMatchObject({
      id: 'rec-1',
      createdAt: 1000,
      forecast: { points: [[1, 2]] },
    });
  });

  it('keeps the same values and order in both: recommendations, audit, dry-run state', async () => {
    const s = await open(await newDb(kind));
    await s.addRecommendation(rec({ id: 'a', createdAt: 1000.5 }), []);
    await s.addRecommendation(rec({ id: 'b', createdAt: 1000.5 }), ['forecast']);
    expect((await s.listRecommendations()).map((r) => [r.id, r.status])).toEqual([
      ['b', 'pending'],
      ['a', 'superseded'],
    ]);
    const d = await s.decideApply('b', { at: 1001, actor: 'token:sre', dryRun: true }, (r) => r!);
    expect(d).toMatchObject({
      existing: false,
      record: { outcome: 'unknown', dryRun: true, reconciled: false },
    });
    expect(await s.unknownAudits()).toHaveLength(1);
    const done = await s.finishAudit(d.record.id, 'applied', { now: 1002, detail: 'ok', fromReplicas: 3 });
    expect(done).toMatchObject({ outcome: 'applied', fromReplicas: 3, finishedAt: 1002, detail: 'ok' });
    // A late writer never overwrites a settled outcome.
    const late = await s.finishAudit(d.record.id, 'failed', { now: 1003, detail: 'late' });
    expect(late).toMatchObject({ outcome: 'applied', detail: 'ok' });
    expect((await s.getRecommendation('b'))!.status).toBe('applied');
    expect(await s.recentRecommendedReplicas('web', 0)).toEqual([
      { at: 1000.5, replicas: 5 },
      { at: 1000.5, replicas: 5 },
    ]);
    await s.setDryRunState('web', { replicas: 4 });
    await s.setDryRunState('web', { replicas: 5 });
    expect(await s.getDryRunState('web')).toEqual({ replicas: 5 });
    expect(await s.expireDue(5000)).toBe(0);
  });

  it('refuses a second action on a target while one has no outcome, naming it', async () => {
    const s = await open(await newDb(kind));
    await s.addRecommendation(rec({ id: 'a' }), []);
    await s.decideApply('a', { at: 1001, actor: 'token:sre', dryRun: true }, (r) => r!);
    await s.addRecommendation(rec({ id: 'b' }), []);
    const refused = s.decideApply('b', { at: 1002, actor: 'token:sre', dryRun: true }, (r) => r!);
    await expect(refused).rejects.toThrow(PrescalerError);
    await expect(refused).rejects.toThrow(/audit record 1: apply of a by token:sre/);
    // Nothing was written for the refused one.
    expect(await s.listAudit()).toHaveLength(1);
    expect((await s.getRecommendation('b'))!.status).toBe('pending');
  });
});

describe('postgres: several replicas on one database', () => {
  it('migrates once when replicas start together', async () => {
    const db = await pg.createDatabase();
    const stores = await Promise.all([open(db), open(db), open(db)]);
    for (const s of stores) expect(await s.schemaVersion()).toBe(POSTGRES_MIGRATIONS.length);
    const c = new Client({ connectionString: db });
    await c.connect();
    const rows = (await c.query('SELECT version FROM prescaler_schema ORDER BY version')).rows;
    await c.end();
    expect(rows.map((r) => r.version)).toEqual(POSTGRES_MIGRATIONS.map((_, i) => i + 1));
  });

  it('records one apply per recommendation however many replicas decide it at once', async () => {
    const db = await pg.createDatabase();
    const replicas = await Promise.all([open(db), open(db), open(db)]);
    await replicas[0].addRecommendation(rec(), []);
    const decisions = await Promise.all(
      replicas.flatMap((s, i) =>
        [0, 1, 2].map((j) =>
          s.decideApply('rec-1', { at: 1001, actor: `replica-${i}-${j}`, dryRun: true }, (r) => r!)
        )
      )
    );
    expect(decisions.filter((d) => !d.existing)).toHaveLength(1);
    const ids = new Set(decisions.map((d) => d.record.id));
    expect(ids.size).toBe(1);
    for (const s of replicas) expect(await s.listAudit()).toHaveLength(1);
  });

  it("refuses a database it cannot reach with the driver's error", async () => {
    await expect(openStore(`postgres://postgres@127.0.0.1:${pg.port}/no_such_db`)).rejects.toThrow(
      /database "no_such_db" does not exist/
    );
  });
});
