import { DEFAULT_BEHAVIOR } from './hpa';
import { HpaPolicy, observePods, type ClusterParams, type History, type HpaParams } from './hpa-policy';

const cluster: ClusterParams = {
  tick: 15,
  capacityPerReplica: 1,
  startup: 120,
  minReplicas: 1,
  maxReplicas: 40,
};
const hpa: HpaParams = {
  targetUtilization: 0.7,
  tolerance: 0.1,
  metricLag: 30,
  metricWindow: 15,
  cpuInitializationPeriod: 300,
  behavior: DEFAULT_BEHAVIOR,
  utilizationCap: 1,
};

/** A history of `n` ticks from t=0 with the given demand per tick and `ready` pods at every tick. */
function flatHistory(n: number, demand: (k: number) => number, ready: number): History {
  return {
    start: 0,
    tick: 15,
    demand: Array.from({ length: n }, (_, k) => demand(k)),
    ready: new Int32Array(n).fill(ready),
    initialReady: ready,
  };
}

/**
 * Runs an HPA over `demand` the way simulate.ts's runPolicy does: every tick the policy decides, new pods
 * are asked for at that tick (the newest are deleted first), and the ready count is recorded after it.
 */
function run(demand: number[], c: ClusterParams, h: HpaParams) {
  const n = demand.length;
  const readyCounts = new Int32Array(n);
  const hist: History = { start: 0, tick: 15, demand, ready: readyCounts, initialReady: 0 };
  const policy = new HpaPolicy(hist, c, h);
  hist.initialReady = policy.initialReplicas();
  const pods: number[] = Array.from({ length: hist.initialReady }, () => -Infinity);
  const replicas: number[] = [];
  const ready: number[] = [];
  for (let k = 0; k < n; k++) {
    const t = k * 15;
    const want = policy.decide({ k, t, pods });
    while (pods.length < want) pods.push(t);
    while (pods.length > want) pods.pop();
    const r = pods.filter((a) => a + c.startup <= t).length;
    readyCounts[k] = r;
    replicas.push(pods.length);
    ready.push(r);
  }
  const at = (series: number[]) => (t: number) => series[t / 15];
  return { replicas: at(replicas), ready: at(ready) };
}

/** 7 cores (10 pods at 70 %) until t=60, then 20. */
const step = Array.from({ length: 40 }, (_, k) => (k < 4 ? 7 : 20));

describe('observePods: the replica calculator grouping (groupPods)', () => {
  // Sync at t=600 reads the sample of m=570 (lag 30); 6 cores over 4 ready pods = 150 %, capped at 100 %.
  const hist = flatHistory(41, () => 6, 4);
  const c = { ...cluster, pending: 30 };

  it('sorts pods into Pending, missing, unready and counted, in that order', () => {
    const pods = [
      -Infinity, // long running: counted at 100 %
      590, // Running at 620 > 600: Pending → unready
      560, // Running at 590, after m − window = 555: no sample → missing, though also not Ready
      520, // Running at 550 ≤ 555 (a sample), start 520 + 300 > 600, Ready only at 640 → unready
      440, // Ready at 560, but its sample (570) is before Ready + window (575) → unready
      430, // Ready at 550, sample 570 ≥ 565 → counted; it served at 570 → 100 %
    ];
    expect(observePods(600, pods, hist, c, hpa)).toEqual({ utilizations: [1, 1], ignored: 3, missing: 1 });
  });

  it('counts a sample exactly one window after Ready (Timestamp not Before Ready + Window)', () => {
    // Ready at 540 (asked 420); lag 45 → m = 555 = 540 + 15: counted. Lag 50 → m = 550 < 555: unready.
    expect(observePods(600, [420], hist, cluster, { ...hpa, metricLag: 45 })).toEqual({
      utilizations: [1],
      ignored: 0,
      missing: 0,
    });
    expect(observePods(600, [420], hist, cluster, { ...hpa, metricLag: 50 })).toEqual({
      utilizations: [],
      ignored: 1,
      missing: 0,
    });
  });

  it('after the CPU initialisation period: a Ready pod counts even with a sample from before Ready; a never-Ready pod is unready', () => {
    // Start-up 400 s, no cap: 6 / 4 = 150 % per serving pod. At t=600, m=570:
    // asked 180: start + 300 = 480 ≤ 600, Ready at 580 → counts, its sample (570) from before Ready: 0 %;
    // asked 250: start + 300 = 550 ≤ 600, not Ready until 650, Ready False since start (250 + 30 > 250) → unready.
    const slow = { ...cluster, startup: 400 };
    const h = { ...hpa, utilizationCap: Infinity };
    expect(observePods(600, [-Infinity, -Infinity, 250, 180], hist, slow, h)).toEqual({
      utilizations: [1.5, 1.5, 0],
      ignored: 1,
      missing: 0,
    });
    // With --horizontal-pod-autoscaler-initial-readiness-delay 0 the never-Ready pod is no longer ignored
    // (250 + 0 > 250 is false): its 0 % sample counts.
    expect(observePods(600, [250], hist, slow, { ...h, initialReadinessDelay: 0 })).toEqual({
      utilizations: [0],
      ignored: 0,
      missing: 0,
    });
  });

  it('within the initialisation period, a Ready pod whose sample predates Ready is unready, not 0 %', () => {
    // Asked 500, Ready 620 ≤ 630; m = 600 < 620 + 15 → unready (after the period it would count at 0 %).
    expect(
      observePods(
        630,
        [-Infinity, 500],
        flatHistory(43, () => 6, 4),
        cluster,
        hpa
      )
    ).toEqual({
      utilizations: [1],
      ignored: 1,
      missing: 0,
    });
  });
});

describe('observePods: metric lag', () => {
  // Demand k / 10 cores at tick k over 10 ready pods: a pod's utilisation names the tick its sample saw.
  const hist = flatHistory(41, (k) => k / 10, 10);
  (hist.ready as Int32Array)[40] = 0; // the sync at t=600 (tick 40) runs before its ready count is recorded
  const pods = Array.from({ length: 10 }, () => -Infinity);
  const seen = (lag: number) =>
    observePods(600, pods, hist, cluster, { ...hpa, metricLag: lag }).utilizations[0];

  it('reads the state of the last tick at or before t − lag, for lags on and off the 15 s tick', () => {
    expect(seen(15)).toBeCloseTo(0.39); // m = 585: tick 39
    expect(seen(30)).toBeCloseTo(0.38); // m = 570: tick 38
    expect(seen(60)).toBeCloseTo(0.36); // m = 540: tick 36
    expect(seen(20)).toBeCloseTo(0.38); // m = 580: tick 38 (570 ≤ 580 < 585)
    expect(seen(50)).toBeCloseTo(0.36); // m = 550: tick 36
    // Lag 0: this sync's own tick, whose ready count is not recorded yet: counted from the pods (10).
    expect(seen(0)).toBeCloseTo(0.4);
  });

  it('moves the first reaction to a step by the lag', () => {
    // 10 pods at 70 % until the step at t=60; the first sync whose sample sees 20 cores scales to
    // ceil(1.0 / 0.7 × 10) = 15 (capped utilisation): t − lag ≥ 60 at the first tick.
    for (const [lag, first] of [
      [15, 75],
      [30, 90],
      [60, 120],
      [20, 90],
      [50, 120],
    ]) {
      const r = run(step, cluster, { ...hpa, metricLag: lag });
      expect([lag, r.replicas(first - 15)]).toEqual([lag, 10]);
      expect([lag, r.replicas(first)]).toEqual([lag, 15]);
    }
  });
});

describe('HpaPolicy: the utilisation cap', () => {
  it('with CPU limit = request (cap 1.0), recovers from overload in several steps; without a cap in one', () => {
    // Step 7 → 20 cores at t=60 over 10 pods; first seen at t=90 (lag 30).
    // Cap ∞: 200 % → ceil(2.0 / 0.7 × 10) = 29, rate-limited to max(10 + 4, 20) = 20; at 105 the 10 new pods
    //   have no sample (missing, 0 % on a scale-up): 20 / 20 pods = 100 % → ceil(1.0 / 0.7 × 20) = 29, within
    //   max(24, 40). Ready 20 at 210, 29 at 225.
    const free = run(step, cluster, { ...hpa, utilizationCap: Infinity });
    expect([free.replicas(90), free.replicas(105)]).toEqual([20, 29]);
    expect([free.ready(195), free.ready(210), free.ready(225)]).toEqual([10, 20, 29]);
    // Cap 1: the pods show 100 % → ceil(1.0 / 0.7 × 10) = 15. While the 5 new pods are missing or unready
    //   (0 % on a scale-up) the rebalanced ratio is 10 / 15 / 0.7 = 0.95 < 1, so 15 holds; their samples count
    //   from t=255 (Ready 210, + window 15, + lag 30): 20 cores over 15 ready pods is still capped at 100 %
    //   → ceil(1.0 / 0.7 × 15) = 22. Capacity reaches demand only at 375 (22 Ready), not 210.
    const capped = run(step, cluster, hpa);
    expect([capped.replicas(90), capped.replicas(240), capped.replicas(255)]).toEqual([15, 15, 22]);
    expect([capped.ready(195), capped.ready(210), capped.ready(360), capped.ready(375)]).toEqual([
      10, 15, 15, 22,
    ]);
  });

  it('an HPA without behavior (behavior: null) scales up by at most max(2 × current, 4)', () => {
    // 0.7 cores: 1 pod; 7 cores from t=60, no cap: 700 % → 10 wanted; at t=90 the legacy limit is
    // max(2 × 1, 4) = 4, the behavior defaults' max(1 + 4, 2 × 1) = 5.
    const small = Array.from({ length: 10 }, (_, k) => (k < 4 ? 0.7 : 7));
    const h = { ...hpa, utilizationCap: Infinity };
    expect(run(small, cluster, { ...h, behavior: null }).replicas(90)).toBe(4);
    expect(run(small, cluster, h).replicas(90)).toBe(5);
  });
});
