import * as path from 'node:path';
import { mulberry32 } from '../series/random';
import { pointRows, rawScores, type AnomalyDetector } from './detector';
import { seasonalNoveltyReach } from './seasonal';
import { loadAnomalyModel } from './index';
import { minimumPoints } from './features';
import { reuseOrScore, ScoreMemo, type ScoreSession } from './score-memo';
import type { Segment } from '../series/types';

const model = loadAnomalyModel(path.join(__dirname, '..', '..', '..', 'models', 'anomaly'));
// The forest's part (its raw scores read `need` points); the seasonal novelty's longer reach is below.
const { seasonal, ...forestOnly } = model.detector;
const detector: AnomalyDetector = forestOnly;
const STEP = 600;
const T0 = 1_700_000_400;
const need = minimumPoints(detector.features, STEP);

/** A day-periodic series with noise and a few spikes, `n` points from index `from` of one long stream. */
function stream(from: number, n: number, seed = 3): Float64Array {
  const r = mulberry32(seed);
  const all = Array.from({ length: from + n }, (_, i) => {
    const noise = r() - 0.5;
    return 10 + 4 * Math.sin((2 * Math.PI * i) / 144) + noise + (i % 97 === 50 ? 12 : 0);
  });
  return Float64Array.from(all.slice(from));
}

const same = (a: Float64Array, b: Float64Array) => Buffer.from(a.buffer).equals(Buffer.from(b.buffer));

describe('reuseOrScore with the seasonal novelty (the shipped detector)', () => {
  const shipped = model.detector;
  const stable = Math.max(need - 1, seasonalNoveltyReach(seasonal!, STEP));

  it('keeps the raw scores and distances from where they read their whole past, and gives what scoring again gives', () => {
    const n = stable + 150;
    const long = stream(0, n);
    const kept = [
      { start: T0, step: STEP, values: long, raw: rawScores(shipped, long, STEP), dist: undefined },
    ];
    for (const [k, more] of [
      [1, 1],
      [6, 6],
      [0, 40],
    ]) {
      const values = stream(k, n - k + more);
      const from = stable;
      const stats = { reused: 0, scored: 0 };
      const got = reuseOrScore(shipped, kept, T0 + k * STEP, STEP, values, stats, from);
      expect(same(got, rawScores(shipped, values, STEP, undefined, from))).toBe(true);
      expect(stats.scored).toBe(more);
    }
  });

  it('keeps nothing for a range that starts before the novelty has its past: it depends on the read', () => {
    const n = stable + 20;
    const kept = [
      { start: T0, step: STEP, values: stream(0, n), raw: rawScores(shipped, stream(0, n), STEP) },
    ];
    const stats = { reused: 0, scored: 0 };
    reuseOrScore(shipped, kept, T0 + STEP, STEP, stream(1, n), stats);
    expect(stats.reused).toBe(0);
  });
});

describe('reuseOrScore', () => {
  it('gives, bit for bit, the scores computing them all again gives, for a window moved on by k steps', () => {
    const n = need + 150;
    const kept = [
      { start: T0, step: STEP, values: stream(0, n), raw: rawScores(detector, stream(0, n), STEP) },
    ];
    for (const [k, more] of [
      [0, 0],
      [1, 1],
      [3, 1],
      [6, 6],
      [0, 40],
      [149, 2],
    ]) {
      const values = stream(k, n - k + more);
      const stats = { reused: 0, scored: 0 };
      const got = reuseOrScore(detector, kept, T0 + k * STEP, STEP, values, stats);
      expect(same(got, rawScores(detector, values, STEP))).toBe(true);
      expect(stats.scored).toBe(more); // only the new points went through the forest
      expect(stats.reused).toBe(n - k - need + 1);
    }
  });

  it('keeps the scores before the first value read differently, and scores the points from it again', () => {
    const n = need + 20;
    const kept = [
      { start: T0, step: STEP, values: stream(0, n), raw: rawScores(detector, stream(0, n), STEP) },
    ];
    for (const at of [need + 5, n - 2, 3]) {
      // A window one step on whose value `at` came back different (a late scrape), and one point more.
      const values = stream(1, n);
      values[at] += 1e-9;
      const stats = { reused: 0, scored: 0 };
      const got = reuseOrScore(detector, kept, T0 + STEP, STEP, values, stats);
      expect(same(got, rawScores(detector, values, STEP))).toBe(true);
      expect(stats.reused).toBe(Math.max(0, at - need + 1));
    }
    // A window that ends before the kept one does (a shorter range): its scores are all kept ones.
    const shorter = stream(1, need + 5);
    const stats = { reused: 0, scored: 0 };
    const got = reuseOrScore(detector, kept, T0 + STEP, STEP, shorter, stats);
    expect(same(got, rawScores(detector, shorter, STEP))).toBe(true);
    expect(stats).toEqual({ reused: 6, scored: 0 });
  });

  it('scores from `from` on only, reusing kept scores that start early enough', () => {
    const n = need + 60;
    const from = need + 20;
    const kept = [
      {
        start: T0,
        step: STEP,
        values: stream(0, n),
        raw: rawScores(detector, stream(0, n), STEP, undefined, from),
      },
    ];
    // Moved on by one step, asking from the same place in the new window: reused, and one point scored.
    const values = stream(1, n);
    let stats = { reused: 0, scored: 0 };
    let got = reuseOrScore(detector, kept, T0 + STEP, STEP, values, stats, from);
    expect(same(got, rawScores(detector, values, STEP, undefined, from))).toBe(true);
    expect(stats).toEqual({ reused: n - 1 - from, scored: 1 });
    expect(Number.isNaN(got[from - 1])).toBe(true);
    // Asking from earlier than the kept scores start (the range moved back): all scored again.
    stats = { reused: 0, scored: 0 };
    got = reuseOrScore(detector, kept, T0 + STEP, STEP, values, stats, from - 10);
    expect(same(got, rawScores(detector, values, STEP, undefined, from - 10))).toBe(true);
    expect(stats).toEqual({ reused: 0, scored: n - from + 10 });
  });

  it('scores everything again when the grid or step differs, or it starts earlier', () => {
    const n = need + 20;
    const kept = [
      { start: T0, step: STEP, values: stream(0, n), raw: rawScores(detector, stream(0, n), STEP) },
    ];
    const cases: Array<[number, number, Float64Array]> = [
      [T0 + STEP + 60, STEP, stream(1, n)], // off the kept grid
      [T0 + STEP, 300, stream(1, minimumPoints(detector.features, 300) + 5)],
      [T0 - STEP, STEP, stream(0, n)],
    ];
    for (const [start, step, values] of cases) {
      const stats = { reused: 0, scored: 0 };
      const got = reuseOrScore(detector, kept, start, step, values, stats);
      expect(same(got, rawScores(detector, values, step))).toBe(true);
      expect(stats.reused).toBe(0);
    }
  });
});

describe('ScoreMemo', () => {
  it('keeps the last answer per key and model, and forgets it for another model or without reuse', () => {
    const memo = new ScoreMemo(1 << 24);
    const labels = { pod: 'a' };
    const seg = (k: number) => ({
      start: T0 + k * STEP,
      step: STEP,
      values: Array.from(stream(k, need + 10)),
    });
    // One answer's use of a session, its remaining points scored in-process (ScoreBatch does it batched).
    const answer = (s: ScoreSession, d: AnomalyDetector, segment: Segment) => {
      const { raw, rest } = s.plan(labels, segment, 0);
      const f = pointRows(d, segment.values, segment.step, undefined, rest);
      d.forest.scoreMany(f.rows).forEach((x, k) => (raw[f.index[k]] = x));
      s.keep(labels, segment, raw);
      s.done();
    };
    const run = (k: number, d = detector, reuse = true) => {
      const s = memo.session('q', d, { reuse });
      answer(s, d, seg(k));
      return s.stats;
    };
    expect(run(0)).toEqual({ reused: 0, scored: 11 });
    expect(run(1)).toEqual({ reused: 10, scored: 1 });
    expect(run(2, detector, false)).toEqual({ reused: 0, scored: 11 });
    expect(run(3, { ...detector })).toEqual({ reused: 0, scored: 11 }); // another detector object
    expect(memo.size.entries).toBe(1);
    const tiny = new ScoreMemo(100);
    answer(tiny.session('q', detector), detector, seg(0));
    expect(tiny.size).toEqual({ bytes: 0, entries: 0 }); // larger than the bound: not kept
  });
});
