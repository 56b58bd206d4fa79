import { PrescalerError } from '../../errors';
import type { Point } from '../../series/types';
import { persistenceForecaster } from './fallback-forecasters';
import { forecastTrack, type ForecastTrack } from './forecasts';
import { segmentFigures } from './metrics';
import { simulationReportHtml } from './report';
import { simulateAll } from './simulate';

/** Demand 2 cores before `stepAt`, 10 from it, a point every 15 s (peak 10 → peakReplicas 10 keeps cores = values). */
function stepTrace(stepAt: number, end: number): Point[] {
  const pts: Point[] = [];
  for (let t = 0; t <= end; t += 15) pts.push([t, t < stepAt ? 2 : 10]);
  return pts;
}

function seededNoise(n: number, seed = 7): number[] {
  let s = seed;
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    s = (s * 1103515245 + 12345) % 2147483648;
    out.push(s / 2147483648);
  }
  return out;
}

describe('segmentFigures', () => {
  it('computes the docs/definitions.md figures on a hand-made trace', () => {
    // violations at ticks 1, 2 (one episode of 30 s) and 4 (15 s); the first is late (2 pods asked one
    // start-up = 1 tick earlier < 3 cores), the second is not (4 pods asked at tick 3).
    const f = segmentFigures(
      {
        tick: 15,
        demand: [1, 3, 3, 1, 3, 1],
        ready: [2, 2, 2, 2, 2, 2],
        replicas: [2, 2, 4, 4, 2, 2],
        initialReplicas: 2,
      },
      1,
      15
    );
    expect(f.violationSeconds).toBe(45);
    expect(f.episodes).toEqual([30, 15]);
    expect(f.lateScaleUps).toBe(1);
    expect(f.replicaSeconds).toBe(16 * 15);
    expect(f.unrecovered).toBe(0);
  });

  it('counts an episode still open at the end up to the end', () => {
    const f = segmentFigures(
      { tick: 15, demand: [1, 3, 3], ready: [2, 2, 2], replicas: [2, 2, 2], initialReplicas: 2 },
      1,
      0
    );
    expect(f.episodes).toEqual([30]);
    expect(f.unrecovered).toBe(1);
  });
});

describe('simulateAll', () => {
  it('HPA reacts to a step after metric lag, rate limits and start-up (hand-computed)', () => {
    // The worked numbers below read the sample a minute late and let a pod report over 100 %.
    const sim = simulateAll(stepTrace(300, 3000), null, {
      peakReplicas: 10,
      startup: 120,
      keepTraces: true,
      metricLag: 60,
      utilizationCap: Infinity,
    });
    const hpa = sim.results.find((r) => r.policy === 'hpa')!;
    const tr = sim.traces![0].policies[0];
    // 3 pods (ceil(2 / 0.7)) until the sync at 360 sees the 300 s sample: 10/3 per pod → 15 wanted, capped at
    // max(3 + 4, 6) = 7; at 375 the 4 new pods are unready (0 %): ceil(2.04 × 7) = 15, capped at max(11, 14) = 14.
    expect(tr.replicas[345 / 15]).toBe(3);
    expect(tr.replicas[360 / 15]).toBe(7);
    expect(tr.replicas[375 / 15]).toBe(14);
    // Ready: 3 until 465, 7 at 480 (asked 360), 14 from 495 (asked 375): demand 10 is short at ticks
    // 300…480 → 13 ticks = 3.25 min, one late episode.
    expect(tr.ready[480 / 15]).toBe(7);
    expect(tr.ready[495 / 15]).toBe(14);
    expect(hpa.violationMinutes).toBe(3.25);
    expect(hpa.lateScaleUps).toBe(1);
    expect(hpa.meanRecoveryMinutes).toBe(3.25);
    expect(sim.results.find((r) => r.policy === 'oracle')!.violationMinutes).toBe(0);
  });

  it('the oracle never violates when start-up is 0 (nor with start-up, from a steady start)', () => {
    const noise = seededNoise(2000);
    const pts: Point[] = noise.map((u, i) => [i * 60, u < 0.05 ? 50 * u * 20 : 5 + 10 * u]);
    for (const startup of [0, 120]) {
      const sim = simulateAll(pts, null, { startup });
      const o = sim.results.find((r) => r.policy === 'oracle')!;
      expect(o.violationMinutes).toBe(0);
      expect(o.lateScaleUps).toBe(0);
      expect(o.replicaHours).toBeLessThan(sim.results.find((r) => r.policy === 'hpa')!.replicaHours);
    }
  });

  it('Prescaler with a forecast of the step asks one start-up ahead and does not violate', () => {
    const end = 6000;
    const pts = stepTrace(3000, end);
    const H = 6;
    const origins: number[] = [];
    for (let T = 0; T <= end; T += 600) origins.push(T);
    const upper = new Float64Array(origins.length * H);
    origins.forEach((T, i) => {
      for (let h = 1; h <= H; h++) upper[i * H + h - 1] = T + h * 600 >= 3000 ? 10 : 2;
    });
    const track: ForecastTrack = {
      forecaster: 'exact',
      step: 600,
      horizons: H,
      origins,
      mean: upper,
      lower: upper,
      upper,
    };
    const sim = simulateAll(pts, track, { peakReplicas: 10, startup: 120, keepTraces: true });
    const by = (p: string) => sim.results.find((r) => r.policy === p)!;
    // Lead = start-up 120 + interval 60 + metric lag 30 = 210 s. The bucket [3000, 3600) is the forecast point
    // at 3600; the window [t, t + 210] reaches into it once t + 210 > 3000, i.e. at the evaluation of
    // t = 2820 (every 60 s): ⌈10 / 0.7⌉ = 15 pods asked then, ready at 2940, before the step.
    const pre = sim.traces![0].policies[1];
    const from = sim.traces![0].from;
    expect(pre.replicas[2820 / 15 - 1]).toBeLessThan(10);
    expect(pre.replicas[2820 / 15]).toBe(15);
    expect(by('prescaler').violationMinutes).toBe(0);
    expect(by('prescaler').lateScaleUps).toBe(0);
    expect(by('hpa').violationMinutes).toBeGreaterThan(0);
    // Scored from the first usable forecast: origin 0 closes at 600 and reaches Prometheus at 630.
    expect(from).toBe(630 / 15);
  });

  it('simulates each side of a gap on its own', () => {
    const a: Point[] = Array.from({ length: 100 }, (_, i) => [i * 60, 5 + (i % 7)]);
    const b: Point[] = Array.from({ length: 100 }, (_, i) => [20000 + i * 60, 5 + (i % 5)]);
    const sim = simulateAll([...a, ...b], null, {});
    expect(sim.segments).toBe(2);
    expect(sim.evaluatedHours).toBeCloseTo((2 * (99 * 60 + 15)) / 3600, 6);
  });

  it('rejects input it cannot simulate, with a clear error', () => {
    const zero: Point[] = [
      [0, 0],
      [60, 0],
      [120, 0],
    ];
    expect(() => simulateAll(zero, null)).toThrow(/zero everywhere/);
    expect(() => simulateAll([[0, 3]], null)).toThrow(PrescalerError);
    expect(() => simulateAll([[0, 3]], null)).toThrow(/at least 2/);
    expect(() =>
      simulateAll(
        [
          [0, 3],
          [60, -1],
        ],
        null
      )
    ).toThrow(/negative/);
    expect(() => simulateAll(stepTrace(300, 3000), null, { hpaTargetUtilization: 0 })).toThrow(/target/);
    expect(() => simulateAll(stepTrace(300, 3000), null, { interval: 50 })).toThrow(
      /interval must be a positive multiple of the 15 s tick/
    );
    expect(() => simulateAll(stepTrace(300, 3000), null, { utilizationCap: 0 })).toThrow(/utilizationCap/);
  });

  it('refuses when no segment has a usable forecast', async () => {
    const pts: Point[] = Array.from({ length: 50 }, (_, i) => [i * 600, 1 + (i % 3)]);
    const track = await forecastTrack(pts, persistenceForecaster());
    expect(track.origins).toHaveLength(0);
    expect(() => simulateAll(pts, track)).toThrow(expect.objectContaining({ code: 'insufficient_history' }));
  });

  it('writes a report with the table and one plot per policy', () => {
    const sim = simulateAll(stepTrace(300, 3000), null, { peakReplicas: 10, keepTraces: true });
    const html = simulationReportHtml(sim, { title: 'step' });
    expect(html).toContain('<table>');
    expect(html.match(/<svg /g)).toHaveLength(2);
  });
});

describe('forecastTrack', () => {
  it('uses only the past at every origin (changing the future leaves earlier forecasts alone)', async () => {
    const base: Point[] = Array.from({ length: 400 }, (_, i) => [i * 600, 10 + Math.sin(i / 10) * 3]);
    const changed: Point[] = base.map(([t, v], i) => [t, i >= 300 ? v * 5 : v]);
    const f = persistenceForecaster();
    const a = await forecastTrack(base, f);
    const b = await forecastTrack(changed, f);
    const i = a.origins.indexOf(299 * 600);
    expect(i).toBeGreaterThan(0);
    expect(Array.from(b.upper.slice(0, (i + 1) * 6))).toEqual(Array.from(a.upper.slice(0, (i + 1) * 6)));
    expect(b.upper[(i + 1) * 6]).not.toBe(a.upper[(i + 1) * 6]);
    // persistence in the trace's unit: the mean is the last value at every horizon
    expect(a.mean[i * 6 + 3]).toBeCloseTo(base[299][1], 9);
  });

  it('gives origins every originEvery seconds, each the mean of the step-long bucket it starts (shifted grids)', async () => {
    // A value per minute: v(t) = t / 60. A 600 s bucket starting at T has mean (T + 270) / 60.
    const pts: Point[] = Array.from({ length: 3 * 1440 }, (_, i) => [i * 60, i]);
    const f = persistenceForecaster();
    const every = await forecastTrack(pts, f, { originEvery: 60 });
    const grid = await forecastTrack(pts, f);
    // Each of the 9 shifted grids starts with a partial bucket holding t = 0, so has one origin more.
    expect(every.origins.length).toBe(grid.origins.length + 9 * (grid.origins.length + 1));
    for (let k = 1; k < every.origins.length; k++) expect(every.origins[k] - every.origins[k - 1]).toBe(60);
    // Persistence forecasts the last bucket's mean: at origin T that is (T + 270) / 60.
    for (const k of [0, 1, 7, 1000, 2000])
      expect(every.mean[k * 6]).toBeCloseTo((every.origins[k] + 270) / 60, 6);
    // Every 10th origin is the epoch-aligned grid's.
    const j = every.origins.indexOf(grid.origins[5]);
    expect(every.upper.slice(j * 6, j * 6 + 6)).toEqual(grid.upper.slice(30, 36));
    expect(() => forecastTrack(pts, f, { originEvery: 70 })).rejects.toThrow(/divide/);
    // `from` leaves out the origins before it, and changes none of the others.
    const later = await forecastTrack(pts, f, { originEvery: 60, from: every.origins[100] });
    expect(later.origins).toEqual(every.origins.slice(100));
    expect(later.mean).toEqual(every.mean.slice(600));
  });
});
