/**
 * The scale-down memory over a real SQLite store: what an evaluation records, what a restarted loop seeds
 * from it, and what each decision appends, all desired counts before limits.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { openStore, type Store } from '../store/store';
import {
  forecastBasis,
  recordEmergencyRecommendation,
  recordForecastRecommendation,
  ScaleDownMemory,
} from './recommendations';
import { recommendReplicas, type ForecastPoint, type Recommendation, type ScalingPolicy } from './replicas';

const WINDOW = 300;
const policy: ScalingPolicy = {
  capacityPerReplica: 1,
  targetUtilization: 1,
  minReplicas: 1,
  maxReplicas: 20,
  startup: 60,
  maxStepUp: 3,
  scaleDownStabilization: WINDOW,
  tolerance: 0,
};
const target = { name: 'web', scaleDownStabilization: WINDOW };
const perWindow = (window: number) => 2 * Math.ceil(window / 60) + 16;
/** A forecast whose demand is `cores` from `now` on: that many replicas wanted. */
const demand = (now: number, cores: number): ForecastPoint[] => [[now + 600, cores, cores, cores]];

let dir: string;
let store: Store;
beforeEach(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'prescaler-recs-'));
  store = await openStore(path.join(dir, 'prescaler.db'));
});
afterEach(async () => {
  await store.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

/** One evaluation as the loop makes it: decide with the memory, remember the desired count, record. */
async function evaluate(memory: ScaleDownMemory, now: number, current: number, cores: number) {
  const forecast = demand(now, cores);
  const rec: Recommendation = recommendReplicas({
    policy,
    interval: 60,
    origin: now,
    now,
    forecast,
    currentReplicas: current,
    recent: memory.within(target.name, WINDOW, now),
  });
  memory.remember(target.name, now, rec.desiredReplicas);
  const basis = forecastBasis(rec, { quantile: 'p90', utilization: 1, model: 'm@1', forecast });
  const { id } = await recordForecastRecommendation(store, {
    target: target.name,
    now,
    ttl: 900,
    currentReplicas: current,
    rec,
    basis,
  });
  return { rec, id };
}

describe('ScaleDownMemory', () => {
  it('remembers desired counts (before limits), seeds them from the store after a restart and appends to them', async () => {
    const T = 1_000_000;
    const first = new ScaleDownMemory();
    await first.seed(store, [target], T, perWindow);
    expect(first.within('web', WINDOW, T)).toEqual([]);

    // 10 replicas wanted, 2 running: the step limit makes it 5. The store keeps the 10 in the basis.
    const up = await evaluate(first, T, 2, 10);
    expect(up.rec).toMatchObject({ desiredReplicas: 10, recommendedReplicas: 5, change: true });
    expect((await store.getRecommendation(up.id!))?.forecast).toMatchObject({ desiredReplicas: 10 });
    // An emergency and a forecast row older than the window are not desired counts of the window.
    await recordEmergencyRecommendation(store, {
      target: 'web',
      now: T + 10,
      ttl: 900,
      currentReplicas: 2,
      recommendedReplicas: 15,
      reason: 'alert',
      origin: 'fp',
    });

    // A restart a minute later: a new memory, seeded from the store.
    const second = new ScaleDownMemory();
    await second.seed(store, [target], T + 60, perWindow);
    expect(second.within('web', WINDOW, T + 60)).toEqual([{ at: T, replicas: 10 }]);

    // 8 running, 3 wanted: held at 8 by the 10 wanted a minute ago; what is remembered is the 3 wanted.
    const held = await evaluate(second, T + 60, 8, 3);
    expect(held.rec).toMatchObject({ desiredReplicas: 3, recommendedReplicas: 8, change: false });
    expect(held.rec.limitedBy).toContain('stabilization');
    expect(second.within('web', WINDOW, T + 120)).toEqual([
      { at: T, replicas: 10 },
      { at: T + 60, replicas: 3 },
    ]);
    expect((await evaluate(second, T + 120, 8, 3)).rec.recommendedReplicas).toBe(8);

    // Once the 10 is out of the window the scale-down goes ahead: the held 8 was never remembered, or it
    // would hold itself.
    const down = await evaluate(second, T + WINDOW + 1, 8, 3);
    expect(second.within('web', WINDOW, T + WINDOW + 1).map((r) => r.replicas)).toEqual([3, 3, 3]);
    expect(down.rec).toMatchObject({ desiredReplicas: 3, recommendedReplicas: 3, change: true });

    // Another restart: the store has what asked for a change within the window (the held evaluations
    // recorded nothing), so the new memory holds the 3 of the scale-down.
    const third = new ScaleDownMemory();
    await third.seed(store, [target], T + WINDOW + 30, perWindow);
    expect(third.within('web', WINDOW, T + WINDOW + 30)).toEqual([{ at: T + WINDOW + 1, replicas: 3 }]);
  });

  it('seeding replaces what was remembered, per target', async () => {
    const memory = new ScaleDownMemory();
    memory.remember('web', 100, 7);
    memory.remember('api', 100, 4);
    await memory.seed(store, [target], 200, perWindow);
    expect(memory.within('web', WINDOW, 200)).toEqual([]);
    expect(memory.within('api', WINDOW, 200)).toEqual([{ at: 100, replicas: 4 }]);
  });
});
