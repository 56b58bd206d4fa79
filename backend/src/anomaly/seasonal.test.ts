import { resample } from '../series/resample';
import { mulberry32 } from '../series/random';
import type { Point } from '../series/types';
import { detectorFromJSON, detectorToJSON, fitDetector, scoreValues } from './detector';
import type { FeatureConfig } from './features';
import { historyToRead, ScoreBatch, scoreSegments, type AnomalyMetadata } from './index';
import { ScoreMemo } from './score-memo';
import {
  seasonalDistance,
  seasonalLookback,
  seasonalNovelty,
  validateSeasonal,
  type SeasonalNovelty,
} from './seasonal';

const STEP = 600; // 144 points a day
const S: SeasonalNovelty = {
  forestWeight: 0.7,
  shingle: 4,
  days: 2,
  toleranceSeconds: 1200,
  normalizeSeconds: 43200,
};

function daily(n: number, seed: number): number[] {
  const r = mulberry32(seed);
  return Array.from({ length: n }, (_, i) => 10 + 3 * Math.sin((2 * Math.PI * i) / 144) + 0.3 * (r() - 0.5));
}

describe('seasonal novelty', () => {
  it('is 0 where the day before repeats exactly, and ½ where a difference equals the largest of the span', () => {
    const v = Array.from({ length: 500 }, (_, i) => Math.sin((2 * Math.PI * i) / 144));
    const d = seasonalDistance(v, STEP, S);
    expect(d[200]).toBeCloseTo(0, 12);
    // A copy of the series with one bump at 400; the bump's difference is the largest of its span.
    const w = v.slice();
    w[400] += 1;
    const n = seasonalNovelty(w, STEP, { ...S, toleranceSeconds: 0 });
    expect(n[400]).toBeCloseTo(1, 6); // the span before held only (rounding-size) zero differences
    const twice = w.slice();
    twice[420] += 1; // the same bump again, 20 points later: equal to the largest before it
    expect(seasonalNovelty(twice, STEP, { ...S, toleranceSeconds: 0 })[420]).toBeCloseTo(0.5, 12);
  });

  it('reads only the past: a later value never changes an earlier novelty', () => {
    const v = daily(800, 3);
    const a = seasonalNovelty(v, STEP, S);
    for (const k of [450, 600, 799]) {
      const w = v.slice();
      w[k] += 50;
      const b = seasonalNovelty(w, STEP, S);
      for (let i = 0; i < k; i++) expect(Object.is(a[i], b[i])).toBe(true);
    }
  });

  it('from an index on equals the whole pass, reading its normalisation span before it', () => {
    const v = daily(800, 4);
    const all = seasonalNovelty(v, STEP, S);
    for (const from of [300, 555, 799]) {
      const some = seasonalNovelty(v, STEP, S, from);
      for (let i = from; i < v.length; i++) expect(Object.is(some[i], all[i])).toBe(true);
    }
  });
});

describe('a detector with seasonal novelty and gap bridging', () => {
  const cfg: FeatureConfig = {
    window: 24,
    shortWindow: 3,
    names: ['value', 'diff', 'zscore', 'spread_ratio'],
    seasonSeconds: 86400,
    seasonToleranceSeconds: 1800,
  };
  const { detector } = fitDetector(
    [1, 2].map((k) => ({ name: `s${k}`, step: STEP, values: daily(600, k) })),
    { features: cfg, seed: 1, nTrees: 30, onsetSeconds: 0, maxGapSeconds: 3 * 3600, seasonal: S }
  );
  const model = {
    id: 'prescaler-iforest',
    version: 't',
    detector,
    metadata: {} as AnomalyMetadata,
  };

  it('round-trips through JSON, and refuses bad settings saying which', () => {
    const json = JSON.parse(JSON.stringify(detectorToJSON(detector)));
    expect(json.seasonal).toEqual(S);
    expect(json.maxGapSeconds).toBe(3 * 3600);
    const back = detectorFromJSON(json);
    const v = daily(900, 7);
    expect(Array.from(scoreValues(back, v, STEP))).toEqual(Array.from(scoreValues(detector, v, STEP)));
    expect(() => detectorFromJSON({ ...json, seasonal: { ...S, days: 0 } })).toThrow(/seasonal: "days"/);
    expect(() => detectorFromJSON({ ...json, seasonal: { ...S, forestWeight: 2 } })).toThrow(/forestWeight/);
    expect(() => detectorFromJSON({ ...json, maxGapSeconds: -1 })).toThrow(/maxGapSeconds/);
    // Older JSON has neither: no bridging, no novelty.
    const old = detectorFromJSON({ ...json, seasonal: undefined, maxGapSeconds: undefined });
    expect(old.maxGapSeconds).toBe(0);
    expect(old.seasonal).toBeUndefined();
  });

  it('scores a range read with historyToRead of warm-up exactly as a long stream scores it', () => {
    const v = daily(1400, 9);
    for (const i of [900, 1100, 1300]) v[i] += 4;
    const points: Point[] = v.map((x, i) => [1_700_000_400 + i * STEP, x]);
    const stream = new Map(scoreSegments(model, resample(points, STEP)).scores.map(([t, s]) => [t, s]));
    const warm = historyToRead(model, STEP);
    expect(warm).toBeGreaterThanOrEqual(seasonalLookback(S, STEP));
    for (const first of [1000, 1100, 1300]) {
      const from = points[first][0] - warm;
      const r = scoreSegments(
        model,
        resample(
          points.filter(([t]) => t >= from),
          STEP
        )
      );
      expect(r.scores.find(([t]) => t === points[first][0])?.[1]).toBe(stream.get(points[first][0]));
    }
  });

  it('through the score memo, a refresh a step later computes one point and serves what scoring again serves', async () => {
    const memo = new ScoreMemo(1 << 24);
    const labels = { pod: 'a' };
    const stream = daily(1300, 11);
    stream[1290] += 5;
    const answer = async (k: number) => {
      const session = memo.session('q', detector);
      const batch = new ScoreBatch(model, { memo: session });
      const start = 1_700_000_400 + k * STEP;
      const segments = [{ start, step: STEP, values: stream.slice(k, k + 1200) }];
      const from = start + 1100 * STEP; // the read before it covers historyToRead
      const a = batch.add(segments, { from, labels });
      await batch.score();
      session.done();
      expect(batch.served(a)).toEqual(scoreSegments(model, segments, { from }));
      return session.stats;
    };
    expect(await answer(0)).toEqual({ reused: 0, scored: 100 });
    expect(await answer(1)).toEqual({ reused: 99, scored: 1 });
    expect(await answer(2)).toEqual({ reused: 99, scored: 1 });
  });

  it('reads back past a bridged hole: a read that would start inside one scores as the stream', () => {
    // Around 100 before a 2-hour hole (12 points at 600 s, 1080–1091), around 10 after it, 45 at the points
    // checked: bridged, the hole is a ramp from 100 down that keeps 45 inside the week's range; a read
    // that starts inside the hole has no ramp, and 45 breaks out of its range.
    const v = daily(2300, 13).map((x, i) => (i < 1080 ? x + 90 : i >= 2088 && i < 2100 ? 45 : x));
    const points: Point[] = v
      .map((x, i) => [1_700_000_400 + i * STEP, x] as Point)
      .filter((_, i) => !(i >= 1080 && i < 1092));
    const stream = new Map(scoreSegments(model, resample(points, STEP)).scores.map(([t, s]) => [t, s]));
    const warm = historyToRead(model, STEP);
    // The warm-up the rest of the detector needs, without the hole's allowance.
    const withoutGap = historyToRead({ ...model, detector: { ...detector, maxGapSeconds: 0 } }, STEP);
    expect(warm).toBeGreaterThanOrEqual(withoutGap + detector.maxGapSeconds);
    const t0 = 1_700_000_400;
    let checked = 0;
    for (let first = 1100; first < 2300; first++) {
      const at = t0 + first * STEP;
      // Only the ranges whose warm-up without the hole's allowance would start inside the hole matter here.
      const start = at - withoutGap;
      if (!(start > t0 + 1079 * STEP && start < t0 + 1092 * STEP)) continue;
      const r = scoreSegments(
        model,
        resample(
          points.filter(([t]) => t >= at - warm),
          STEP
        )
      );
      expect(r.scores.find(([t]) => t === at)?.[1]).toBe(stream.get(at));
      checked++;
    }
    expect(checked).toBeGreaterThan(5);
  });

  it('caps the tolerance at maxTolerancePoints: the same distances as that many points in seconds', () => {
    const v = daily(1600, 17).map((x, i) => x + (i % 37 === 0 ? 2 : 0));
    const fine = 60;
    const capped = seasonalDistance(v, fine, { ...S, toleranceSeconds: 3600, maxTolerancePoints: 3 });
    const asSeconds = seasonalDistance(v, fine, { ...S, toleranceSeconds: 3 * fine });
    expect(Array.from(capped)).toEqual(Array.from(asSeconds));
    expect(Array.from(seasonalDistance(v, fine, { ...S, toleranceSeconds: 3600 }))).not.toEqual(
      Array.from(capped)
    );
    expect(() => validateSeasonal({ ...S, maxTolerancePoints: 1.5 })).toThrow(/maxTolerancePoints/);
  });

  it('scores across a hole up to maxGapSeconds, where an unbridged series would start again', () => {
    const v = daily(700, 5);
    // 2 h missing at 500 (12 points), then 6 h missing at 600 (36 points).
    const points: Point[] = v
      .map((x, i) => [1_700_000_400 + i * STEP, x] as Point)
      .filter((_, i) => !(i >= 500 && i < 512) && !(i >= 600 && i < 636));
    const r = scoreSegments(model, resample(points, STEP));
    const times = new Set(r.scores.map(([t]) => t));
    expect(times.has(1_700_000_400 + 520 * STEP)).toBe(true); // after the bridged hole
    expect(times.has(1_700_000_400 + 505 * STEP)).toBe(false); // in it: no data, no score
    expect(times.has(1_700_000_400 + 640 * STEP)).toBe(false); // after the longer one: no past yet
  });
});
