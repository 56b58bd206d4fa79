/**
 * prescaler_actions_total{target,outcome}: every action on a target is counted once by how it ended —
 * applied, failed (the cluster said no), refused (never attempted), unknown (no answer; counted again
 * once reconciled) — and every configured target's outcomes exist from 0.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import pino from 'pino';
import { loadConfig, type Config } from '../config';
import { PrescalerError } from '../errors';
import { Metrics } from '../http/metrics';
import { openStore, type Store, type StoredRecommendation } from '../store/store';
import { DryRunActuator } from './dry-run';
import { ActuationService } from './service';
import type { Actuator } from './types';

let dir: string;
let config: Config;
let store: Store;
let metrics: Metrics;
let clock: number;

beforeEach(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'prescaler-actions-'));
  fs.writeFileSync(
    path.join(dir, 'config.yaml'),
    `targets:
  - name: web
    workload: {kind: Deployment, name: web}
    query: x
    capacityPerReplica: 0.5
    minReplicas: 1
    maxReplicas: 10
    initialReplicas: 2
  - name: api
    workload: {kind: HorizontalPodAutoscaler, name: api}
    query: x
    capacityPerReplica: 0.5
    minReplicas: 2
    maxReplicas: 10
    floorTtl: 60
`
  );
  config = loadConfig({
    PRESCALER_CONFIG: path.join(dir, 'config.yaml'),
    PRESCALER_DB: path.join(dir, 'db'),
  });
  store = await openStore(config.dbPath);
  metrics = new Metrics({ processMetrics: false });
  clock = 1_760_000_000;
});

afterEach(async () => {
  await store.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

function service(actuator: Actuator = new DryRunActuator(store)): ActuationService {
  return new ActuationService({
    config,
    store,
    actuator,
    metrics,
    logger: pino({ level: 'silent' }),
    now: () => clock,
  });
}

let seq = 0;
async function rec(target: string, from: number, to: number, over: Partial<StoredRecommendation> = {}) {
  const r: StoredRecommendation = {
    id: `rec-${++seq}`,
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
    ...over,
  };
  await store.addRecommendation(r, []);
  return r;
}

/** prescaler_actions_total as `target/outcome` → value, from what /metrics would serve. */
async function counts(): Promise<Record<string, number>> {
  const text = await metrics.registry.metrics();
  const out: Record<string, number> = {};
  for (const m of text.matchAll(/^prescaler_actions_total\{target="([^"]+)",outcome="([^"]+)"\} (\S+)$/gm))
    out[`${m[1]}/${m[2]}`] = Number(m[3]);
  return out;
}

/** The dry-run actuator, except that apply throws `error` (with `uncertain` when asked). */
function failing(error: PrescalerError, uncertain = false): Actuator {
  const dry = new DryRunActuator(store);
  return {
    kind: 'dry-run',
    dryRun: true,
    read: (t) => dry.read(t),
    revertFloor: (t, f) => dry.revertFloor(t, f),
    apply: async () => {
      throw Object.assign(error, uncertain ? { uncertain: true } : {});
    },
  };
}

it('starts every configured target at 0 for each outcome', async () => {
  service();
  expect(await counts()).toEqual({
    'web/applied': 0,
    'web/failed': 0,
    'web/refused': 0,
    'web/unknown': 0,
    'api/applied': 0,
    'api/failed': 0,
    'api/refused': 0,
    'api/unknown': 0,
  });
});

it('counts an apply once, however often it is asked for', async () => {
  const s = service();
  const r = await rec('web', 2, 4);
  await Promise.all([s.apply(r.id, 'token:sre'), s.apply(r.id, 'token:sre')]);
  await s.apply(r.id, 'token:sre'); // answered from the audit record: no second action
  expect(await counts()).toMatchObject({ 'web/applied': 1, 'web/failed': 0, 'web/refused': 0 });
});

it('counts a refusal (expired, out of bounds) as refused, and an unknown id not at all', async () => {
  const s = service();
  const expired = await rec('web', 2, 4, { expiresAt: clock - 1 });
  await expect(s.apply(expired.id, 'token:sre')).rejects.toThrow(/expired/);
  const tooMany = await rec('web', 2, 11);
  await expect(s.apply(tooMany.id, 'token:sre')).rejects.toThrow(/outside web's bounds/);
  await expect(s.apply('rec-nope', 'token:sre')).rejects.toThrow(/no recommendation/);
  expect(await counts()).toMatchObject({ 'web/refused': 2, 'web/applied': 0 });
});

it('counts an action the cluster refused as failed', async () => {
  const s = service(failing(new PrescalerError('upstream_error', 'forbidden: grant verb "patch"')));
  const r = await rec('web', 2, 4);
  const res = await s.apply(r.id, 'token:sre');
  expect(res.error?.message).toMatch(/forbidden/);
  expect(await counts()).toMatchObject({ 'web/failed': 1, 'web/applied': 0 });
});

it('counts an action without an answer as unknown, then as what reconciliation finds', async () => {
  const s = service(failing(new PrescalerError('upstream_timeout', 'no answer'), true));
  const r = await rec('web', 2, 4);
  await s.apply(r.id, 'token:sre');
  expect(await counts()).toMatchObject({ 'web/unknown': 1, 'web/applied': 0, 'web/failed': 0 });
  // Another apply while the first has no outcome is refused.
  await expect(s.apply((await rec('web', 2, 3)).id, 'token:sre')).rejects.toThrow(/without an outcome yet/);
  await s.reconcile(); // the dry-run workload still runs 2: the write did not land
  expect(await counts()).toMatchObject({ 'web/unknown': 1, 'web/failed': 1, 'web/refused': 1 });
});

it('counts an HPA floor reverting when its time is up', async () => {
  const s = service();
  await s.apply((await rec('api', 2, 6)).id, 'token:sre');
  clock += 61;
  const reverted = await s.sweepFloors();
  expect(reverted.map((r) => r.outcome)).toEqual(['applied']);
  expect(await counts()).toMatchObject({ 'api/applied': 2 });
  await s.close();
});
