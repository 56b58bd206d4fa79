import { emergencyReplicas } from './emergency';
import {
  leadWindow,
  quantileLabel,
  recommendReplicas,
  type ForecastPoint,
  type ScalingPolicy,
} from './replicas';

const policy: ScalingPolicy = {
  capacityPerReplica: 0.5,
  targetUtilization: 0.7,
  minReplicas: 2,
  maxReplicas: 20,
  startup: 120,
  scaleDownStabilization: 300,
  tolerance: 0.1,
  unit: 'cores',
};
const T0 = 1_000_000;
/** Six 10-minute horizons with the given upper values (mean and lower below them). */
const fc = (...upper: number[]): ForecastPoint[] =>
  upper.map((u, i) => [T0 + 600 * (i + 1), u * 0.8, u * 0.6, u]);

describe('recommendReplicas', () => {
  it('sizes for the upper quantile within start-up + interval and says so in words', () => {
    // lead 120 + 60 = 180 s → only the first horizon (10 min); 4.2 / 0.35 = 12 replicas.
    const r = recommendReplicas({
      policy,
      interval: 60,
      origin: T0,
      forecast: fc(4.2, 9, 9, 9, 9, 9),
      currentReplicas: 4,
      recent: [],
      quantileLabel: 'p90',
    });
    expect(r.recommendedReplicas).toBe(12);
    expect(r.leadTime).toBe(180);
    expect(r.demand).toBe(4.2);
    expect(r.reason).toBe('p90 forecast 4.2 cores in 10 min (lead 3 min) → 12 replicas at 70 %; now 4');
  });

  it('takes the highest upper value across a longer lead time', () => {
    // startup 40 min + 5 min interval = 45 min → horizons 10…50 min (the 50-min one covers the tail).
    const r = recommendReplicas({
      policy: { ...policy, startup: 2400 },
      interval: 300,
      origin: T0,
      forecast: fc(1, 2, 3, 2.1, 1.5, 9),
      currentReplicas: 4,
      recent: [],
      quantileLabel: 'p90',
    });
    expect(r.demand).toBe(3);
    expect(r.demandAt).toBe(T0 + 1800);
    expect(r.recommendedReplicas).toBe(9); // ⌈3 / 0.35⌉ = ⌈8.57⌉
  });

  it('does not buy a replica for float noise at an exact multiple', () => {
    const r = recommendReplicas({
      policy,
      interval: 60,
      origin: T0,
      forecast: fc(0.35 * 7),
      currentReplicas: 3,
      recent: [],
    });
    expect(r.recommendedReplicas).toBe(7);
  });

  it('clamps to min and max and names the bound', () => {
    const low = recommendReplicas({
      policy,
      interval: 60,
      origin: T0,
      forecast: fc(0.1),
      currentReplicas: 2,
      recent: [],
    });
    expect(low.recommendedReplicas).toBe(2);
    expect(low.change).toBe(false);
    const high = recommendReplicas({
      policy,
      interval: 60,
      origin: T0,
      forecast: fc(100),
      currentReplicas: 10,
      recent: [],
    });
    expect(high.recommendedReplicas).toBe(20);
    expect(high.limitedBy).toContain('max');
    expect(high.reason).toMatch(/capped at the maximum of 20/);
  });

  it('keeps the current count inside the tolerance', () => {
    // 10 replicas; demand 3.6 → 10.29 replicas' worth: +2.9 % < 10 %.
    const r = recommendReplicas({
      policy,
      interval: 60,
      origin: T0,
      forecast: fc(3.6),
      currentReplicas: 10,
      recent: [],
    });
    expect(r.recommendedReplicas).toBe(10);
    expect(r.change).toBe(false);
    expect(r.limitedBy).toEqual(['tolerance']);
    // 3.9 → 11.14: +11.4 % > 10 % → 12.
    const out = recommendReplicas({
      policy,
      interval: 60,
      origin: T0,
      forecast: fc(3.9),
      currentReplicas: 10,
      recent: [],
    });
    expect(out.recommendedReplicas).toBe(12);
  });

  it('limits steps up and down', () => {
    const p = { ...policy, maxStepUp: 3, maxStepDown: 1, scaleDownStabilization: 1 };
    const up = recommendReplicas({
      policy: p,
      interval: 60,
      origin: T0,
      forecast: fc(4.2),
      currentReplicas: 4,
      recent: [],
    });
    expect(up.recommendedReplicas).toBe(7);
    expect(up.reason).toMatch(/step limited to \+3 → 7$/);
    const down = recommendReplicas({
      policy: p,
      interval: 60,
      origin: T0,
      forecast: fc(0.7),
      currentReplicas: 10,
      recent: [],
    });
    expect(down.recommendedReplicas).toBe(9);
  });

  it('holds a scale-down at the highest recent desired count within the window only', () => {
    const recent = [
      { at: T0 - 400, replicas: 15 }, // outside the 300 s window
      { at: T0 - 200, replicas: 8 },
    ];
    const r = recommendReplicas({
      policy,
      interval: 60,
      origin: T0,
      now: T0,
      forecast: fc(1.4),
      currentReplicas: 10,
      recent,
    });
    expect(r.desiredReplicas).toBe(4);
    expect(r.recommendedReplicas).toBe(8);
    expect(r.limitedBy).toContain('stabilization');
    const free = recommendReplicas({
      policy,
      interval: 60,
      origin: T0,
      now: T0 + 1000,
      forecast: fc(1.4),
      currentReplicas: 10,
      recent,
    });
    expect(free.recommendedReplicas).toBe(4);
  });

  it('brings a workload outside its bounds back in at once, stepping from the bound', () => {
    const r = recommendReplicas({
      policy: { ...policy, maxStepDown: 1 },
      interval: 60,
      origin: T0,
      forecast: fc(1),
      currentReplicas: 30,
      recent: [],
    });
    expect(r.recommendedReplicas).toBe(19);
  });

  it('refuses a forecast without a finite upper value', () => {
    expect(() =>
      recommendReplicas({ policy, interval: 60, origin: T0, forecast: [], currentReplicas: 1, recent: [] })
    ).toThrow();
    expect(() =>
      recommendReplicas({
        policy,
        interval: 60,
        origin: T0,
        forecast: [[T0 + 600, 1, 0, NaN]],
        currentReplicas: 1,
        recent: [],
      })
    ).toThrow(/not finite/);
  });
});

describe('leadWindow and quantileLabel', () => {
  it('always includes the horizon that covers the end of the lead time', () => {
    expect(leadWindow(fc(1, 2, 3), T0, 600).map((p) => p[0])).toEqual([T0 + 600]);
    expect(leadWindow(fc(1, 2, 3), T0, 601).map((p) => p[0])).toEqual([T0 + 600, T0 + 1200]);
  });
  it('names the upper band of a two-sided interval', () => {
    expect(quantileLabel(0.8)).toBe('p90');
    expect(quantileLabel(0.9)).toBe('p95');
    expect(quantileLabel(undefined)).toBe('upper');
  });
});

describe('emergencyReplicas', () => {
  const base = { name: 'web', minReplicas: 2, maxReplicas: 20, alertName: 'HighCPU' };
  it('adds half again, or follows a higher forecast, within bounds and the cap', () => {
    expect(emergencyReplicas({ ...base, currentReplicas: 4 }).recommendedReplicas).toBe(6);
    expect(emergencyReplicas({ ...base, currentReplicas: 1 }).recommendedReplicas).toBe(2);
    expect(emergencyReplicas({ ...base, currentReplicas: 4, forecastReplicas: 9 }).recommendedReplicas).toBe(
      9
    );
    expect(emergencyReplicas({ ...base, currentReplicas: 18 }).recommendedReplicas).toBe(20);
    const capped = emergencyReplicas({ ...base, currentReplicas: 6, autoApplyCap: 8 });
    expect(capped.recommendedReplicas).toBe(8);
    expect(capped.reason).toMatch(/capped at 8 by autoApplyEmergency.maxReplicas/);
  });
  it('never scales down, and says when nothing can change', () => {
    const r = emergencyReplicas({ ...base, currentReplicas: 20 });
    expect(r.recommendedReplicas).toBe(20);
    expect(r.change).toBe(false);
    expect(emergencyReplicas({ ...base, currentReplicas: 10, autoApplyCap: 5 }).recommendedReplicas).toBe(10);
  });
});
