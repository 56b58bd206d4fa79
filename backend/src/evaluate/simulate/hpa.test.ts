import { HpaController, hpaDesiredReplicas, type ScalingPolicy } from './hpa';

const spec = { minReplicas: 1, maxReplicas: 100 };

describe('hpaDesiredReplicas (replica calculator)', () => {
  it('takes no action inside the 10 % tolerance', () => {
    // 0.75 / 0.70 = 1.071: |1 − 1.071| ≤ 0.1
    expect(
      hpaDesiredReplicas({
        currentReplicas: 4,
        targetUtilization: 0.7,
        podUtilizations: [0.75, 0.75, 0.75, 0.75],
        ignoredPods: 0,
        missingPods: 0,
      })
    ).toBe(4);
    // 0.84 / 0.70 = 1.2 → ceil(1.2 × 4) = ceil(4.8) = 5
    expect(
      hpaDesiredReplicas({
        currentReplicas: 4,
        targetUtilization: 0.7,
        podUtilizations: [0.84, 0.84, 0.84, 0.84],
        ignoredPods: 0,
        missingPods: 0,
      })
    ).toBe(5);
  });

  it('truncates the average utilisation to a whole per cent (GetResourceUtilizationRatio)', () => {
    // 3 pods at 93.5 %: int32(93.5) = 93 → 93 / 70 = 1.329 → ceil(1.329 × 3) = ceil(3.986) = 4
    // (unrounded, 0.935 / 0.7 × 3 = 4.007 would give 5).
    expect(
      hpaDesiredReplicas({
        currentReplicas: 3,
        targetUtilization: 0.7,
        podUtilizations: [0.935, 0.935, 0.935],
        ignoredPods: 0,
        missingPods: 0,
      })
    ).toBe(4);
  });

  it('counts unready pods as 0 % on a scale-up', () => {
    // 4 ready at 80 %, 2 unready, target 70 %: ratio 1.143 → rebalanced (3.2 / 6) / 0.7 = 0.762 < 1 flips the
    // direction, so the count stays at 6 (ignoring the unready pods would give ceil(1.143 × 4) = 5).
    expect(
      hpaDesiredReplicas({
        currentReplicas: 6,
        targetUtilization: 0.7,
        podUtilizations: [0.8, 0.8, 0.8, 0.8],
        ignoredPods: 2,
        missingPods: 0,
      })
    ).toBe(6);
    // 4 ready at 120 %, 2 unready: (4.8 / 6) / 0.7 = 1.143 → ceil(1.143 × 6) = ceil(6.857) = 7
    expect(
      hpaDesiredReplicas({
        currentReplicas: 6,
        targetUtilization: 0.7,
        podUtilizations: [1.2, 1.2, 1.2, 1.2],
        ignoredPods: 2,
        missingPods: 0,
      })
    ).toBe(7);
  });

  it('leaves unready pods out on a scale-down and counts missing pods at 100 %', () => {
    // 4 ready at 35 %, 2 unready: 0.5 → ceil(0.5 × 4) = 2
    expect(
      hpaDesiredReplicas({
        currentReplicas: 6,
        targetUtilization: 0.7,
        podUtilizations: [0.35, 0.35, 0.35, 0.35],
        ignoredPods: 2,
        missingPods: 0,
      })
    ).toBe(2);
    // 3 at 35 % + 1 missing at 100 %: (1.05 + 1) / 4 / 0.7 = 0.732 → ceil(2.93) = 3
    expect(
      hpaDesiredReplicas({
        currentReplicas: 4,
        targetUtilization: 0.7,
        podUtilizations: [0.35, 0.35, 0.35],
        ignoredPods: 0,
        missingPods: 1,
      })
    ).toBe(3);
  });

  it('answers null when no pod has a usable metric', () => {
    expect(
      hpaDesiredReplicas({
        currentReplicas: 3,
        targetUtilization: 0.7,
        podUtilizations: [],
        ignoredPods: 3,
        missingPods: 0,
      })
    ).toBeNull();
  });
});

describe('HpaController (behavior defaults)', () => {
  it('caps a scale-up at max(Pods 4, Percent 100) per 15 s', () => {
    expect(new HpaController(spec).reconcile(0, 2, 20)).toBe(6); // max(2 + 4, 2 × 2)
    expect(new HpaController(spec).reconcile(0, 10, 40)).toBe(20); // max(10 + 4, 10 × 2)
    expect(new HpaController({ minReplicas: 1, maxReplicas: 15 }).reconcile(0, 10, 40)).toBe(15);
  });

  it('counts scale-ups inside the policy period', () => {
    const c = new HpaController(spec);
    expect(c.reconcile(0, 2, 20)).toBe(6);
    // 5 s later the period started at 2: max(2 + 4, 2 × 2) = 6, no further growth
    expect(c.reconcile(5, 6, 20)).toBe(6);
    // the event at t=0 is exactly 15 s old, outside the period: max(6 + 4, 6 × 2) = 12
    expect(c.reconcile(15, 6, 20)).toBe(12);
  });

  it('holds the highest recommendation of the last 300 s on a scale-down', () => {
    const c = new HpaController(spec);
    let cur = c.reconcile(0, 10, 10);
    const seen: Record<number, number> = {};
    for (let t = 15; t <= 420; t += 15) {
      cur = c.reconcile(t, cur, t === 105 ? 8 : 4);
      seen[t] = cur;
    }
    expect(seen[285]).toBe(10); // the initial 10 (t=0) is still inside (0 > 285 − 300)
    expect(seen[300]).toBe(8); // t=0 has left the window; 8 from t=105 is the highest left
    expect(seen[390]).toBe(8);
    expect(seen[405]).toBe(4); // t=105 left the window
  });

  it('never scales a scale-down signal up to an earlier, rate-limited recommendation', () => {
    // 4 → desired 20, capped at max(4 + 4, 4 × 2) = 8. 15 s later the metric asks for 6: the 20 is still
    // inside the scale-down window, but with behavior rules the controller brings the current size (8)
    // within [6, 20], so it stays (stabilizeRecommendationWithBehaviors).
    const c = new HpaController(spec);
    expect(c.reconcile(0, 4, 20)).toBe(8);
    expect(c.reconcile(15, 8, 6)).toBe(8);
    // Once the window has passed the 20 and the 6s, the size follows the metric down.
    let cur = 8;
    for (let t = 30; t <= 330; t += 15) cur = c.reconcile(t, cur, 6);
    expect(cur).toBe(6);
  });

  it('jumps to a raised minReplicas at once, ignoring the rate policies', () => {
    expect(new HpaController(spec).reconcile(0, 2, 2, 30)).toBe(30);
  });

  it('leaves the scale alone without metrics', () => {
    expect(new HpaController(spec).reconcile(0, 5, null)).toBe(5);
  });
});

describe('HpaController: the period start counts scale-ups and scale-downs', () => {
  const up4per60 = { type: 'Pods' as const, value: 4, periodSeconds: 60 };
  const noWindow = (policies: ScalingPolicy[]) => ({
    stabilizationWindowSeconds: 0,
    selectPolicy: 'Max' as const,
    policies,
  });

  it('grows a scale-up from the size before a scale-down in the same period (calculateScaleUpLimitWithScalingRules)', () => {
    const c = new HpaController({
      ...spec,
      behavior: {
        scaleUp: noWindow([up4per60]),
        scaleDown: noWindow([{ type: 'Percent', value: 100, periodSeconds: 60 }]),
      },
    });
    // t=0: 10 → 6 (scale-down limit trunc(10 × 0) = 0 does not bind).
    expect(c.reconcile(0, 10, 6)).toBe(6);
    // t=15: the period started at 6 − 0 added + 4 deleted = 10 → limit 10 + 4 = 14 (counting only scale-ups
    // would start it at 6 and stop at 10).
    expect(c.reconcile(15, 6, 20)).toBe(14);
    // t=30: 14 − 8 added + 4 deleted = 10 → limit 14: no growth.
    expect(c.reconcile(30, 14, 20)).toBe(14);
    // t=60: the scale-down at 0 has left the period (0 is not after 60 − 60), the +8 at 15 has not:
    // 14 − 8 = 6 → limit 10 < current, so the current 14 stays.
    expect(c.reconcile(60, 14, 20)).toBe(14);
    // t=75: both events are out: 14 + 4 = 18.
    expect(c.reconcile(75, 14, 20)).toBe(18);
  });

  it('cuts a scale-down from the size before a scale-up in the same period (calculateScaleDownLimitWithBehaviors)', () => {
    const c = new HpaController({
      ...spec,
      behavior: {
        scaleUp: noWindow([up4per60]),
        scaleDown: noWindow([{ type: 'Pods', value: 2, periodSeconds: 60 }]),
      },
    });
    expect(c.reconcile(0, 10, 14)).toBe(14); // 10 + 4
    // t=15: the period started at 14 + 0 deleted − 4 added = 10 → limit 10 − 2 = 8 (from 14 it would be 12).
    expect(c.reconcile(15, 14, 4)).toBe(8);
    // t=30: 8 + 6 deleted − 4 added = 10 → limit 8 = current: no further cut.
    expect(c.reconcile(30, 8, 4)).toBe(8);
  });
});

describe('HpaController without spec.behavior (normalizeDesiredReplicas)', () => {
  const legacy = { ...spec, behavior: null };

  it('scales up to at most max(2 × current, 4) per sync, whatever happened in the last 15 s', () => {
    // calculateScaleUpLimit: max(2 × 1, 4) = 4 (the behavior defaults allow max(1 + 4, 2 × 1) = 5).
    expect(new HpaController(legacy).reconcile(0, 1, 10)).toBe(4);
    expect(new HpaController(spec).reconcile(0, 1, 10)).toBe(5);
    // max(2 × 3, 4) = 6 (behavior defaults: max(3 + 4, 6) = 7).
    expect(new HpaController(legacy).reconcile(0, 3, 20)).toBe(6);
    // maxReplicas 15 < 2 × 10 binds.
    expect(new HpaController({ ...legacy, maxReplicas: 15 }).reconcile(0, 10, 40)).toBe(15);
    const c = new HpaController(legacy);
    expect(c.reconcile(0, 3, 20)).toBe(6);
    expect(c.reconcile(5, 6, 20)).toBe(12); // no scale events are kept: 2 × 6 five seconds later
  });

  it('holds the highest recommendation of the last 300 s, the one exactly 300 s old included, then drops at once', () => {
    const c = new HpaController(legacy);
    let cur = c.reconcile(0, 10, 10);
    const seen: Record<number, number> = {};
    for (let t = 15; t <= 330; t += 15) {
      cur = c.reconcile(t, cur, 2);
      seen[t] = cur;
    }
    expect(seen[15]).toBe(10);
    // stabilizeRecommendation drops only recommendations Before(now − 300): the 10 from t=0 still counts at 300.
    expect(seen[300]).toBe(10);
    // At 315 it has gone and every one left is 2: 10 → 2 in one sync (no scale-down rate limit).
    expect(seen[315]).toBe(2);
  });

  it('takes the downscale stabilisation window from the controller flag', () => {
    const c = new HpaController({ ...legacy, downscaleStabilization: 60 });
    expect(c.reconcile(0, 10, 10)).toBe(10);
    expect(c.reconcile(15, 10, 2)).toBe(10);
    expect(c.reconcile(60, 10, 2)).toBe(10); // the 10 at t=0 is exactly 60 s old
    expect(c.reconcile(75, 10, 2)).toBe(2);
  });

  it('scales up to an earlier rate-limited recommendation even when the metric now asks for fewer pods', () => {
    const c = new HpaController(legacy);
    // 4 → 20 wanted, limited to max(2 × 4, 4) = 8.
    expect(c.reconcile(0, 4, 20)).toBe(8);
    // The metric asks for 6, but the highest recommendation of the window is the 20 from t=0, limited to
    // 2 × 8 = 16: a scale-*up* (the behavior path keeps 8, see above).
    expect(c.reconcile(15, 8, 6)).toBe(16);
    expect(c.reconcile(30, 16, 6)).toBe(20); // min(20, 2 × 16)
    let cur = 20;
    const seen: Record<number, number> = {};
    for (let t = 45; t <= 315; t += 15) {
      cur = c.reconcile(t, cur, 6);
      seen[t] = cur;
    }
    expect(seen[300]).toBe(20); // the 20 from t=0 is exactly 300 s old
    expect(seen[315]).toBe(6); // only 6s are left in the window
  });
});
