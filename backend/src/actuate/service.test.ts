/**
 * ActuationService with the dry-run actuator, on each store (a real SQLite file, a real PostgreSQL
 * database) and a clock the test moves: alert
 * occurrences (repeats of a firing alert over hours, restarts, concurrent deliveries), stale applies,
 * and one action per target at a time.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import pino from 'pino';
import { loadConfig, type Config } from '../config';
import { PrescalerError } from '../errors';
import { startPostgres, type RunningPostgres } from '../../../test/helpers/postgres';
import { openStore, type Store, type StoredRecommendation } from '../store/store';
import { DryRunActuator } from './dry-run';
import { ActuationService, type AlertInput } from './service';
import type { Actuator } from './types';

const HOUR = 3600;
let dir: string;
let config: Config;
let store: Store;
let clock: number;
let pg: RunningPostgres;
/** The store the tests of the describe.each block now running use. */
let backend: 'sqlite' | 'postgres';

beforeAll(async () => {
  pg = await startPostgres();
}, 60_000);
afterAll(() => pg?.stop());

function service(actuator: Actuator = new DryRunActuator(store)): ActuationService {
  return new ActuationService({
    config,
    store,
    actuator,
    logger: pino({ level: 'silent' }),
    now: () => clock,
  });
}

beforeEach(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'prescaler-service-'));
  fs.writeFileSync(
    path.join(dir, 'config.yaml'),
    `targets:
  - name: web
    workload: {kind: Deployment, name: web}
    query: x
    capacityPerReplica: 0.5
    minReplicas: 1
    maxReplicas: 40
    initialReplicas: 2
    autoApplyEmergency: {enabled: true, maxReplicas: 30}
  - name: api
    workload: {kind: HorizontalPodAutoscaler, name: api}
    query: x
    capacityPerReplica: 0.5
    minReplicas: 2
    maxReplicas: 10
  - name: batch
    workload: {kind: Deployment, name: batch}
    query: x
    capacityPerReplica: 0.5
    minReplicas: 1
    maxReplicas: 4
    initialReplicas: 4
`
  );
  config = loadConfig({
    PRESCALER_CONFIG: path.join(dir, 'config.yaml'),
    PRESCALER_DB: backend === 'sqlite' ? path.join(dir, 'db') : await pg.createDatabase(),
  });
  store = await openStore(config.dbPath);
  clock = 1_760_000_000;
});

afterEach(async () => {
  await store.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

const alert = (over: Partial<AlertInput> = {}): AlertInput => ({
  target: 'web',
  alertName: 'HighCPU',
  fingerprint: 'fp-1',
  startsAt: '2025-11-20T10:00:00.000Z',
  ...over,
});

const replicas = async (name: string) => (await store.getDryRunState(name))?.replicas;

const BACKENDS = ['sqlite', 'postgres'] as const;

describe.each(BACKENDS)('on %s', (which) => {
  beforeAll(() => {
    backend = which;
  });

  describe('emergencies: one per alert occurrence', () => {
    it('does not ratchet an auto-applied target up on every repeat of a long-firing alert', async () => {
      const s = service();
      const first = await s.raiseEmergency(alert());
      expect(first).toMatchObject({ status: 'auto-applied' });
      expect(await replicas('web')).toBe(3);
      // Alertmanager repeats the firing alert every 4 h (repeat_interval), long past the 15 min TTL.
      for (let i = 1; i <= 6; i++) {
        clock += 4 * HOUR;
        const o = await s.raiseEmergency(alert());
        expect(o).toMatchObject({ status: 'duplicate', recommendationId: first.recommendationId });
      }
      expect(await replicas('web')).toBe(3);
      expect(await store.listAudit()).toHaveLength(1);
    });

    it('remembers answered occurrences across a restart', async () => {
      await service().raiseEmergency(alert());
      await store.close();
      store = await openStore(config.dbPath);
      clock += 12 * HOUR;
      expect((await service().raiseEmergency(alert())).status).toBe('duplicate');
      expect(await replicas('web')).toBe(3);
    });

    it('raises once for concurrent deliveries of one occurrence', async () => {
      const s = service();
      const all = await Promise.all([s.raiseEmergency(alert()), s.raiseEmergency(alert())]);
      expect(all.map((o) => o.status).sort()).toEqual(['auto-applied', 'duplicate']);
      expect(all.find((o) => o.status === 'duplicate')!.message).toMatch(/being handled|already handled/);
      expect(await replicas('web')).toBe(3);
    });

    it('starts a new occurrence after a resolve, and the same alert with a new startsAt is new', async () => {
      const s = service();
      await s.raiseEmergency(alert());
      expect(
        await s.resolveAlert({ target: 'web', fingerprint: 'fp-1', startsAt: '2025-11-20T10:00:00.000Z' })
      ).toBe(true);
      clock += HOUR;
      const again = await s.raiseEmergency(alert({ startsAt: '2025-11-20T11:00:00.000Z' }));
      expect(again.status).toBe('auto-applied');
      expect(await replicas('web')).toBe(5);
    });

    it('lets a later notification try again when nothing could be done for the occurrence', async () => {
      const s = service();
      const atMax = await s.raiseEmergency(alert({ target: 'batch' }));
      expect(atMax.status).toBe('no-change');
      await store.setDryRunState('batch', { replicas: 2 });
      clock += 4 * HOUR;
      expect((await s.raiseEmergency(alert({ target: 'batch' }))).status).toBe('pending');
    });
  });

  /** The dry-run actuator whose applies wait for `release()`: an apply in flight for as long as a test needs. */
  function gatedActuator(): { actuator: Actuator; release: () => void } {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const dry = new DryRunActuator(store);
    return {
      release,
      actuator: {
        kind: 'dry-run',
        dryRun: true,
        read: (t) => dry.read(t),
        revertFloor: (t, f) => dry.revertFloor(t, f),
        apply: async (t, n, o) => {
          await gate;
          return dry.apply(t, n, o);
        },
      },
    };
  }

  /** A pending forecast recommendation for `target`, made at its current count. */
  async function forecastRec(target: string, from: number, to: number): Promise<StoredRecommendation> {
    const r: StoredRecommendation = {
      id: `rec-forecast-${target}-${to}`,
      target,
      kind: 'forecast',
      createdAt: clock,
      expiresAt: clock + 900,
      currentReplicas: from,
      recommendedReplicas: to,
      reason: 'forecast',
      forecast: null,
      status: 'pending',
      statusAt: clock,
      origin: null,
    };
    await store.addRecommendation(r, []);
    return r;
  }

  describe('emergencies: an alert that arrives while an apply is in flight', () => {
    it('is not used up: once the apply supersedes its emergency, the next repeat raises a usable one', async () => {
      await store.setDryRunState('batch', { replicas: 2 });
      const { actuator, release } = gatedActuator();
      const s = service(actuator);
      const f = await forecastRec('batch', 2, 3);
      const applying = s.apply(f.id, 'token:sre');
      const during = await s.raiseEmergency(alert({ target: 'batch' }));
      expect(during.status).toBe('pending');
      release();
      expect((await applying).record.outcome).toBe('applied');
      expect((await store.getRecommendation(during.recommendationId!))!.status).toBe('superseded');

      clock += 5 * 60; // Alertmanager's group_interval / a Grafana re-send
      const repeat = await s.raiseEmergency(alert({ target: 'batch' }));
      expect(repeat.status).toBe('pending');
      expect(repeat.recommendationId).not.toBe(during.recommendationId);
      expect(repeat.message).toMatch(`replaces ${during.recommendationId}, superseded by another action`);
      const fresh = (await store.getRecommendation(repeat.recommendationId!))!;
      expect(fresh).toMatchObject({ status: 'pending', currentReplicas: 3, kind: 'emergency' });
      // Usable: made at the count the workload runs now, so applying it is not refused as stale.
      const applied = await s.apply(fresh.id, 'token:sre');
      expect(applied.error).toBeUndefined();
      expect(await replicas('batch')).toBe(fresh.recommendedReplicas);

      // Now something was done for the occurrence: further repeats are duplicates of the fresh one.
      clock += 4 * HOUR;
      expect(await s.raiseEmergency(alert({ target: 'batch' }))).toMatchObject({
        status: 'duplicate',
        recommendationId: fresh.id,
      });
      expect((await store.listAudit()).map((a) => [a.recommendationId, a.outcome])).toEqual([
        [fresh.id, 'applied'],
        [f.id, 'applied'],
      ]);
    });

    it('auto-apply: refused while the other action is in flight, answered (not thrown), raised again later', async () => {
      const { actuator, release } = gatedActuator();
      const s = service(actuator);
      const f = await forecastRec('web', 2, 3);
      const applying = s.apply(f.id, 'token:sre');
      const during = await s.raiseEmergency(alert());
      expect(during).toMatchObject({ status: 'auto-apply-failed' });
      expect(during.message).toMatch(/^web has an action without an outcome yet/);
      release();
      await applying;
      expect(await replicas('web')).toBe(3);

      clock += 5 * 60;
      const repeat = await s.raiseEmergency(alert());
      expect(repeat.status).toBe('auto-applied');
      expect(await replicas('web')).toBeGreaterThan(3);
      expect(await store.listAudit()).toHaveLength(2); // the forecast's apply and the emergency's: no more
    });

    it('stays a duplicate while its emergency is pending, and once a resolved occurrence is over', async () => {
      await store.setDryRunState('batch', { replicas: 2 });
      const { actuator, release } = gatedActuator();
      const s = service(actuator);
      const applying = s.apply((await forecastRec('batch', 2, 3)).id, 'token:sre');
      const during = await s.raiseEmergency(alert({ target: 'batch' }));
      // Still pending (the apply has not landed): a repeat is a duplicate of it.
      expect(await s.raiseEmergency(alert({ target: 'batch' }))).toMatchObject({
        status: 'duplicate',
        recommendationId: during.recommendationId,
      });
      release();
      await applying;
      await s.resolveAlert({ target: 'batch', fingerprint: 'fp-1', startsAt: alert().startsAt });
      // A late copy of the resolved occurrence raises nothing.
      expect((await s.raiseEmergency(alert({ target: 'batch' }))).status).toBe('duplicate');
    });

    it('stays a duplicate when another emergency is pending for the target', async () => {
      await store.setDryRunState('batch', { replicas: 2 });
      const { actuator, release } = gatedActuator();
      const s = service(actuator);
      const applying = s.apply((await forecastRec('batch', 2, 3)).id, 'token:sre');
      await s.raiseEmergency(alert({ target: 'batch' }));
      release();
      await applying;
      const other = await s.raiseEmergency(
        alert({ target: 'batch', fingerprint: 'fp-2', alertName: 'Other' })
      );
      expect(other.status).toBe('pending');
      expect((await s.raiseEmergency(alert({ target: 'batch' }))).status).toBe('duplicate');
    });
  });

  describe('input quoted in answers', () => {
    it('is cut short: an unknown recommendation id, an alert for an unknown target', async () => {
      const s = service();
      const id = 'x'.repeat(100_000);
      await expect(s.apply(id, 'test')).rejects.toThrow(
        /^no recommendation "x{200}"… \(100000 characters\)$/
      );
      const o = await s.raiseEmergency(alert({ target: 't'.repeat(100_000) }));
      expect(o.status).toBe('ignored');
      expect(o.message).toMatch(/^no configured target "t{200}"… \(100000 characters\)$/);
    });
  });

  describe('apply', () => {
    async function rec(over: Partial<StoredRecommendation> = {}): Promise<StoredRecommendation> {
      const r: StoredRecommendation = {
        id: `rec-${Math.random().toString(36).slice(2)}`,
        target: 'web',
        kind: 'forecast',
        createdAt: clock,
        expiresAt: clock + 900,
        currentReplicas: 2,
        recommendedReplicas: 7,
        reason: 'test',
        forecast: null,
        status: 'pending',
        statusAt: clock,
        origin: null,
        ...over,
      };
      await store.addRecommendation(r, []);
      return r;
    }

    it('dry-run: refuses a recommendation made at another count than the remembered one', async () => {
      const r = await rec();
      await store.setDryRunState('web', { replicas: 12 });
      const res = await service().apply(r.id, 'test');
      expect(res.error).toBeInstanceOf(PrescalerError);
      expect(res.error!.status).toBe(409);
      expect(res.error!.message).toBe(
        'stale: web now runs 12 replicas, the recommendation was made at 2; wait for the next evaluation'
      );
      expect(res.record).toMatchObject({ outcome: 'failed', errorCode: 'conflict' });
      expect(await replicas('web')).toBe(12);
      const again = await service().apply(r.id, 'test');
      expect(again.record.id).toBe(res.record.id);
      expect(again.error!.message).toBe(res.error!.message);
    });

    it('dry-run HPA: compares what the HPA runs', async () => {
      const r = await rec({ target: 'api', currentReplicas: 2, recommendedReplicas: 6 });
      await store.setDryRunState('api', { replicas: 4 });
      const res = await service().apply(r.id, 'test');
      expect(res.error!.message).toMatch(/^stale: api now runs 4 replicas, the recommendation was made at 2/);
      expect((await store.getDryRunState('api'))!.floor).toBeUndefined();
    });

    it('decides one apply per target at a time: a second recommendation is superseded or refused', async () => {
      let release!: () => void;
      const gate = new Promise<void>((r) => (release = r));
      const dry = new DryRunActuator(store);
      const slow: Actuator = {
        kind: 'dry-run',
        dryRun: true,
        read: (t) => dry.read(t),
        revertFloor: (t, f) => dry.revertFloor(t, f),
        apply: async (t, n, o) => {
          await gate;
          return dry.apply(t, n, o);
        },
      };
      const s = service(slow);
      const a = await rec({ recommendedReplicas: 5 });
      const b = await rec({ kind: 'emergency', recommendedReplicas: 6 });
      const pa = s.apply(a.id, 'test');
      await expect(s.apply(b.id, 'test')).rejects.toThrow(/is superseded/);
      const c = await rec({ recommendedReplicas: 8 });
      await expect(s.apply(c.id, 'test')).rejects.toThrow(/^web has an action without an outcome yet/);
      release();
      expect((await pa).record.outcome).toBe('applied');
      expect(await replicas('web')).toBe(5);
      expect(await store.listAudit()).toHaveLength(1);
    });
  });
});
