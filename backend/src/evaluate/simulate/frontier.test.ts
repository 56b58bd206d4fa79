import type { Point } from '../../series/types';
import { seasonalForecaster } from './fallback-forecasters';
import { forecastTrack } from './forecasts';
import {
  bootstrapSaving,
  cheapestWithin,
  costAtEqualViolations,
  sliceTimes,
  type FrontierInput,
  type FrontierPoint,
} from './frontier';
import { costAtEqualViolationsInWorkers } from './frontier-workers';

const pt = (replicaHours: number, violationMinutes: number): FrontierPoint => ({
  setting: {},
  replicaHours,
  violationMinutes,
  lateScaleUps: 0,
  meanRecoveryMinutes: 0,
});

describe('cheapestWithin', () => {
  it('takes the cheapest setting within the violation limit', () => {
    expect(cheapestWithin([pt(10, 0), pt(8, 3), pt(6, 5), pt(5, 9)], 5)).toBe(2);
    expect(cheapestWithin([pt(10, 0), pt(8, 3), pt(6, 5.0000001), pt(5, 9)], 5)).toBe(1);
  });
  it('where none is within, takes the fewest violations, then the cheapest', () => {
    expect(cheapestWithin([pt(10, 7), pt(8, 6), pt(9, 6)], 5)).toBe(1);
  });
});

describe('bootstrapSaving', () => {
  it('days that all save 20 % give exactly [20 %, 20 %]', () => {
    const days = [1, 2, 3, 4, 5].map((k) => ({ hpa: 10 * k, prescaler: 8 * k }));
    const [lo, hi] = bootstrapSaving(days, 1000, 7);
    expect(lo).toBeCloseTo(0.2, 12);
    expect(hi).toBeCloseTo(0.2, 12);
  });

  it('two days, one saving all and one nothing: resamples give 0, ½ or 1, so the interval is [0, 1]', () => {
    // Each resample draws 2 days: both "nothing" (p = ¼, saving 0), one of each (½, saving ½), both "all"
    // (¼, saving 1); 2.5 % and 97.5 % of 1000 draws fall in the outer groups.
    const [lo, hi] = bootstrapSaving(
      [
        { hpa: 1, prescaler: 1 },
        { hpa: 1, prescaler: 0 },
      ],
      1000,
      3
    );
    expect(lo).toBe(0);
    expect(hi).toBe(1);
  });

  it('is the same on every run for a seed', () => {
    const days = Array.from({ length: 12 }, (_, i) => ({ hpa: 10 + (i % 5), prescaler: 8 + ((i * 7) % 4) }));
    expect(bootstrapSaving(days, 500, 11)).toEqual(bootstrapSaving(days, 500, 11));
  });
});

/** Ten days at 300 s: a daily wave with ramps and noise, as a small per-VM trace. */
function trace(phase: number, testChange?: (t: number, v: number) => number): Point[] {
  const pts: Point[] = [];
  const t0 = 1_700_000_000;
  const n = 10 * 288;
  let seed = 17 + phase;
  const noise = () => {
    seed = (seed * 16807) % 2147483647;
    return seed / 2147483647;
  };
  for (let i = 0; i < n; i++) {
    const t = t0 + i * 300;
    const day = Math.sin((2 * Math.PI * i) / 288 + phase);
    const v = 10 + 6 * day + 2 * noise() + (i % 97 < 4 ? 6 : 0);
    pts.push([t, testChange && i >= 0.8 * (n - 1) ? testChange(t, v) : v]);
  }
  return pts;
}

async function inputs(testChange?: (t: number, v: number) => number): Promise<FrontierInput[]> {
  const f = seasonalForecaster();
  return Promise.all(
    [0, 1.3].map(async (phase, i) => {
      const points = trace(phase, testChange);
      return { name: `vm${i}`, points, track: await forecastTrack(points, f) };
    })
  );
}

const small = {
  hpaTargets: [0.5, 0.7, 0.9],
  settings: [
    { quantile: 'upper' as const, utilization: 0.8, hpaTarget: 0.9 },
    { quantile: 'mean' as const, utilization: 1, hpaTarget: 0.9 },
  ],
  resamples: 200,
};

describe('costAtEqualViolations', () => {
  it('splits each series 70 / 10 / 20 by time, the test slice starting after the last point before 80 %', () => {
    const pts: Point[] = Array.from({ length: 11 }, (_, i) => [100 + 100 * i, 1]);
    expect(sliceTimes(pts)).toEqual({ start: 100, validation: 800, test: 900, end: 1100 });
    // Points every 300 s: 80 % of 0…1000 is 800, the last point there is at 600.
    const sparse: Point[] = [0, 300, 600, 900, 1000].map((t) => [t, 1]);
    expect(sliceTimes(sparse)).toEqual({ start: 0, validation: 700, test: 600, end: 1000 });
  });

  it('chooses on the validation slice only: a changed test slice moves the figures, never the choice', async () => {
    const a = costAtEqualViolations(await inputs(), small);
    // Triple the test slice: much more demand there, so different test figures.
    const b = costAtEqualViolations(await inputs((_, v) => 3 * v), small);
    for (const k of ['tuned', 'default'] as const) {
      expect(b.comparison[k].hpa.setting).toEqual(a.comparison[k].hpa.setting);
      expect(b.comparison[k].prescaler.setting).toEqual(a.comparison[k].prescaler.setting);
      expect(b.comparison[k].chosenOn).toEqual(a.comparison[k].chosenOn);
      expect(b.comparison[k].hpa.replicaHours).not.toBe(a.comparison[k].hpa.replicaHours);
    }
    expect(b.validation.frontier).toEqual(a.validation.frontier);
    // (The oracle knows the future by design: its last validation minutes see the test slice's demand.)
    expect(b.budget).toEqual(a.budget);
  });

  it('gives the docs/definitions.md figures: budget, one frontier point per setting, comparisons against the oracle', async () => {
    const r = costAtEqualViolations(await inputs(), small);
    expect(r.series).toBe(2);
    // Two series of 10 days less one step: 20 % each is the test slice.
    expect(r.evaluatedHours).toBeCloseTo((2 * 0.2 * (10 * 86400 - 300)) / 3600, 0);
    expect(r.budget.violationMinutes).toBeCloseTo(0.001 * r.evaluatedHours * 60, 9);
    expect(r.frontier.hpa.map((p) => p.setting)).toEqual(
      small.hpaTargets.map((t) => ({ targetUtilization: t }))
    );
    expect(r.frontier.prescaler.map((p) => p.setting)).toEqual(small.settings);
    const d = r.comparison.default;
    expect(d.hpa.setting).toEqual({ targetUtilization: 0.7 });
    // Prescaler's default choice holds the violations HPA@0.70 had on the validation slice.
    expect(d.chosenOn.prescaler.violationMinutes).toBeLessThanOrEqual(d.chosenOn.hpa.violationMinutes + 1e-9);
    expect(d.saving).toBeCloseTo(1 - d.prescaler.replicaHours / d.hpa.replicaHours, 12);
    expect(d.gapCaptured).toBeCloseTo(
      (d.hpa.replicaHours - d.prescaler.replicaHours) / (d.hpa.replicaHours - d.oracle.replicaHours),
      12
    );
    expect(d.savingCi95[0]).toBeLessThanOrEqual(d.saving + 1e-9);
    expect(d.savingCi95[1]).toBeGreaterThanOrEqual(d.saving - 1e-9);
    // The oracle never violates and costs least.
    expect(r.oracle.violationMinutes).toBe(0);
    for (const p of [...r.frontier.hpa, ...r.frontier.prescaler])
      expect(p.replicaHours).toBeGreaterThan(r.oracle.replicaHours);
    // The band's coverage of the peak: the upper band plans at least the mean's demand, so covers as often.
    const [upper, mean] = r.frontier.prescaler;
    expect(upper.peakCoverage).toBeGreaterThan(0);
    expect(upper.peakCoverage).toBeLessThanOrEqual(1);
    expect(upper.peakCoverage!).toBeGreaterThanOrEqual(mean.peakCoverage!);
    expect(mean.peakCoverage).toBeLessThan(1);
    expect(r.frontier.hpa[0].peakCoverage).toBeUndefined();
    expect(r.sampleDay?.demand.length).toBe(1440);
    expect(r.sampleDay?.replicas.prescaler.length).toBe(1440);
  });

  it('refuses when no series has a validation slice to choose on', async () => {
    const f = seasonalForecaster();
    // 2.5 days: forecasts start at 2 days (the seasonal forecaster's history), after the validation slice
    // (1.75–2 days), so only a test slice is scored and nothing can be chosen.
    const points = trace(0).slice(0, Math.round(2.5 * 288));
    const one = [{ name: 'young', points, track: await forecastTrack(points, f) }];
    expect(() => costAtEqualViolations(one, small)).toThrow(/no series has a validation and a test slice/);
  });

  it('refuses a setting given twice (each setting is one frontier point)', async () => {
    const all = await inputs();
    expect(() =>
      costAtEqualViolations(all, { ...small, settings: [small.settings[0], small.settings[0]] })
    ).toThrow(/given once/);
    expect(() => costAtEqualViolations(all, { ...small, hpaTargets: [0.5, 0.9] })).toThrow(/default 0.7/);
  });

  it('gives the same result with the series replayed on worker threads', async () => {
    const all = await inputs();
    const here = costAtEqualViolations(all, small);
    const seen: string[] = [];
    const there = await costAtEqualViolationsInWorkers(all, small, 2, (_, name) => seen.push(name));
    expect(there).toEqual(here);
    expect(seen.sort()).toEqual(['vm0', 'vm1']);
  }, 60_000);

  it('leaves out a series with no usable forecast in its test slice, and says why', async () => {
    const f = seasonalForecaster();
    // 1.9 days: the seasonal forecaster needs 2 days of history, so no tick of it ever has a forecast.
    const short = trace(0).slice(0, Math.round(1.9 * 288));
    const all = [...(await inputs()), { name: 'short', points: short, track: await forecastTrack(short, f) }];
    const r = costAtEqualViolations(all, small);
    expect(r.series).toBe(2);
    expect(r.skipped).toEqual([
      { series: 'short', reason: expect.stringMatching(/no usable forecast in the test slice/) },
    ]);
  });
});
