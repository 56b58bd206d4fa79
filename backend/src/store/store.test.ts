/**
 * Both stores behind one interface, on a real SQLite file and a real PostgreSQL: migrations at start
 * (idempotent, and safe when replicas start together), and at most one apply per recommendation when
 * several connections (standing in for replicas) decide it at once.
 */
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vm from 'node:vm';
import Database from 'better-sqlite3';
import { Client } from 'pg';
import { startPostgres, type RunningPostgres } from '../../../test/helpers/postgres';
import { PrescalerError } from '../errors';
import type { ForecastBasis as LoopBasis } from '../recommend/recommendations';
import { POSTGRES_MIGRATIONS, SQLITE_MIGRATIONS } from './migrations';
import { parseForecastBasis } from './recommendations';
import { openStore, type ForecastBasis, type Store, type StoredRecommendation } from './store';

// What the loop records is what the store reads back (a compile-time check: tsc fails if they drift).
const loopBasisIsStored = (b: LoopBasis): ForecastBasis => b;
void loopBasisIsStored;

const BASIS: ForecastBasis = {
  quantile: 'p90',
  demand: 420,
  demandAt: 1_000_600_000,
  leadTime: 300,
  peakFactor: 1.2,
  utilization: 0.7,
  desiredReplicas: 5,
  limitedBy: ['maxStepUp'],
  model: 'fast-lstm@1',
  points: [[1_000_600_000, 400, 350, 450]],
};

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

/** better-sqlite3's native addon, the one object every sandbox in this process shares (Node's require). */
const nativeAddon = (): { setErrorConstructor(c: unknown): void } => {
  const nodeRequire = createRequire(__filename);
  return nodeRequire(nodeRequire.resolve('better-sqlite3/build/Release/better_sqlite3.node'));
};
/** The constructor of the errors better-sqlite3 throws now. */
const sqliteErrorConstructor = (): unknown => {
  const db = new Database(':memory:');
  try {
    db.exec('SELECT * FROM no_such_table');
  } catch (e) {
    return (e as object).constructor;
  } finally {
    db.close();
  }
  throw new Error('SQLite accepted a query of a missing table');
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
  forecast: BASIS,
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
      forecast: BASIS,
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

  it('supersedes pending recommendations by kind, and all but the one applied', async () => {
    const s = await open(await newDb(kind));
    const status = async () => (await s.listRecommendations()).map((r) => [r.id, r.status]);
    await s.addRecommendation(rec({ id: 'f1', createdAt: 1000 }), []);
    await s.addRecommendation(rec({ id: 'e1', kind: 'emergency', forecast: null, createdAt: 1001 }), []);
    await s.addRecommendation(rec({ id: 'f2', createdAt: 1002 }), ['forecast']);
    expect(await status()).toEqual([
      ['f2', 'pending'],
      ['e1', 'pending'],
      ['f1', 'superseded'],
    ]);
    expect(await s.supersedePending('web', [], 1003)).toBe(0);
    // Deciding one supersedes every other pending one of the target, whatever its kind.
    await s.decideApply('f2', { at: 1004, actor: 'token:sre', dryRun: true }, (r) => r!);
    expect(await status()).toEqual([
      ['f2', 'pending'],
      ['e1', 'superseded'],
      ['f1', 'superseded'],
    ]);
    expect((await s.getRecommendation('e1'))!.statusAt).toBe(1004);
    expect(await s.supersedePending('web', ['forecast', 'emergency'], 1005)).toBe(1);
  });

  it('prefers the newer of two pending recommendations made at the same time', async () => {
    const s = await open(await newDb(kind));
    await s.addRecommendation(rec({ id: 'z' }), []);
    await s.addRecommendation(rec({ id: 'a' }), []);
    expect((await s.pendingRecommendation('web', 'forecast'))!.id).toBe('a');
  });

  it('reads the forecast basis back validated: an emergency has none, a value that is not a basis is none', async () => {
    const s = await open(await newDb(kind));
    // Rows written before the peak factor and utilisation were recorded still read as a basis.
    const { peakFactor: _p, utilization: _u, ...older } = BASIS;
    await s.addRecommendation(rec({ id: 'old', forecast: older }), []);
    await s.addRecommendation(rec({ id: 'em', kind: 'emergency', forecast: null }), []);
    expect((await s.getRecommendation('old'))!.forecast).toEqual(older);
    expect((await s.getRecommendation('em'))!.forecast).toBeNull();
  });
});

describe('parseForecastBasis', () => {
  it('keeps a basis as written, extra keys too, and refuses what is not one', () => {
    expect(parseForecastBasis(JSON.stringify(BASIS))).toEqual(BASIS);
    expect(parseForecastBasis(JSON.stringify({ ...BASIS, note: 'x' }))).toEqual({ ...BASIS, note: 'x' });
    expect(parseForecastBasis(null)).toBeNull();
    expect(parseForecastBasis('null')).toBeNull();
    expect(parseForecastBasis('{not json')).toBeNull();
    expect(parseForecastBasis(JSON.stringify({ points: [[1, 2]] }))).toBeNull();
    expect(parseForecastBasis(JSON.stringify({ ...BASIS, limitedBy: ['ceiling'] }))).toBeNull();
  });
});

describe('sqlite: one transaction at a time in the process', () => {
  it('records one apply per recommendation however many requests decide it at once', async () => {
    const s = await open(path.join(dir, 'prescaler.db'));
    await s.addRecommendation(rec(), []);
    const decisions = await Promise.all(
      [0, 1, 2, 3, 4].map((i) =>
        s.decideApply('rec-1', { at: 1001, actor: `request-${i}`, dryRun: true }, (r) => r!)
      )
    );
    expect(decisions.filter((d) => !d.existing)).toHaveLength(1);
    expect(new Set(decisions.map((d) => d.record.id)).size).toBe(1);
  });

  it('runs a statement asked for during a transaction after it, never inside it', async () => {
    const s = await open(path.join(dir, 'prescaler.db'));
    await s.addRecommendation(rec({ id: 'a' }), []);
    await s.decideApply('a', { at: 1001, actor: 'token:sre', dryRun: true }, (r) => r!);
    await s.addRecommendation(rec({ id: 'b' }), []);
    // The refused decision rolls back; the status written meanwhile must survive it.
    const refused = s.decideApply('b', { at: 1002, actor: 'token:sre', dryRun: true }, (r) => r!);
    const written = s.setRecommendationStatus('a', 'failed', 1003);
    await expect(refused).rejects.toThrow(PrescalerError);
    await written;
    expect((await s.getRecommendation('a'))!.status).toBe('failed');
    expect((await s.getRecommendation('b'))!.status).toBe('pending');
  });

  const rollsBackWhole = async () => {
    const file = path.join(dir, 'prescaler.db');
    const s = await open(file);
    await s.addRecommendation(rec({ id: 'a' }), []);
    // The insert fails (same id) after the supersede ran: the supersede must not stay. Matched by its
    // code and message, not with toThrow: see the next test.
    await expect(s.addRecommendation(rec({ id: 'a' }), ['forecast'])).rejects.toMatchObject({
      code: 'SQLITE_CONSTRAINT_PRIMARYKEY',
      message: expect.stringMatching(/UNIQUE/),
    });
    expect((await s.getRecommendation('a'))!.status).toBe('pending');
    const raw = new Database(file, { readonly: true });
    expect(raw.prepare('SELECT count(*) AS n FROM recommendations').get()).toEqual({ n: 1 });
    raw.close();
  };

  it('rolls a failed transaction back whole', rollsBackWhole);

  // better-sqlite3's native addon is loaded once per process (jest loads a .node file with Node's own
  // require, so every test file a worker runs shares it), and it keeps the SqliteError constructor of
  // the first sandbox that opened a database. In a worker that ran another SQLite test file first, a
  // SQLite error is that file's SqliteError: not an Error of this file (SqliteError is a plain object
  // whose prototype is its own sandbox's Error.prototype), so expect's isError refuses it and
  // `rejects.toThrow` reports "Received function did not throw". Only tests have several sandboxes; the
  // product has one, so its SQLite errors are always its Errors.
  it('rolls back whole, and says so, when another sandbox registered the SqliteError', async () => {
    const addon = nativeAddon();
    const before = sqliteErrorConstructor();
    const sandbox = vm.createContext({ module: { exports: {} } });
    const source = fs.readFileSync(require.resolve('better-sqlite3/lib/sqlite-error.js'), 'utf8');
    vm.runInContext(source, sandbox);
    addon.setErrorConstructor(sandbox.module.exports);
    try {
      expect(sqliteErrorConstructor()).not.toBe(Database.SqliteError);
      await rollsBackWhole();
    } finally {
      addon.setErrorConstructor(before);
    }
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
