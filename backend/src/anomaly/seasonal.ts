/**
 * Seasonal novelty: how unlike the same time of the previous days a series' latest few points are, measured
 * against the series' own recent history of that difference. The Isolation Forest (detector.ts) scores a
 * point through unit-free features against what it learnt from cluster traces; this is the per-series half,
 * adapted to the one series it reads (what HTM's likelihood over its own score history and ARTime's
 * resonance over recent windows do in their own ways; docs/anomaly.md says how it was chosen).
 *
 * For point i, with P points per day:
 *   d_i = min over k = 1…days and j within ±tolerance of i − k·P of RMS(shingle_i − shingle_j) / range_i
 * where shingle_i is the `shingle` points ending at i and range_i the spread of the values over the days
 * looked back (never 0). Then n_i = d_i / max(d over the previous `normalizeSeconds`), and the novelty is
 * n_i / (1 + n_i): ½ when the latest difference equals the largest of the last day, → 1 far above it.
 * Every term reads points at or before i only. With less past than `days` it uses the days there are.
 */
import { trailingRange } from '../series/window';

export interface SeasonalNovelty {
  /** Share of the forest's raw score in the mix; the novelty gets 1 − forestWeight. */
  forestWeight: number;
  /** Points per shingle (the recent shape compared). */
  shingle: number;
  /** Days looked back for the same time of day. */
  days: number;
  /** How far either side of the same time of day a match may lie, seconds. */
  toleranceSeconds: number;
  /**
   * At most this many points either side (the tolerance in points is capped by it), so that a fine step
   * does not multiply the work: at 60 s an hour would be 121 candidates a day, at 300 s it is 25.
   */
  maxTolerancePoints?: number;
  /** Span of past differences a difference is measured against, seconds. */
  normalizeSeconds: number;
}

export const DAY_SECONDS = 86400;

export function validateSeasonal(s: SeasonalNovelty, where = 'seasonal'): void {
  const ok = (x: unknown, lo: number, hi = Infinity) =>
    typeof x === 'number' && Number.isFinite(x) && x >= lo && x <= hi;
  if (!ok(s.forestWeight, 0, 1)) throw new RangeError(`${where}: "forestWeight" must be in [0, 1]`);
  if (!(ok(s.shingle, 1, 1000) && Number.isInteger(s.shingle)))
    throw new RangeError(`${where}: "shingle" must be an integer in [1, 1000]`);
  if (!(ok(s.days, 1, 60) && Number.isInteger(s.days)))
    throw new RangeError(`${where}: "days" must be an integer in [1, 60]`);
  if (!ok(s.toleranceSeconds, 0)) throw new RangeError(`${where}: "toleranceSeconds" must be ≥ 0`);
  if (
    s.maxTolerancePoints !== undefined &&
    !(ok(s.maxTolerancePoints, 0) && Number.isInteger(s.maxTolerancePoints))
  )
    throw new RangeError(`${where}: "maxTolerancePoints" must be an integer ≥ 0`);
  if (!ok(s.normalizeSeconds, 1)) throw new RangeError(`${where}: "normalizeSeconds" must be ≥ 1`);
}

/**
 * Seconds of past a novelty at a point reads: the days looked back, its shingle and tolerance, and the
 * normalisation span before that (seasonalNoveltyReach points).
 */
export function seasonalLookback(s: SeasonalNovelty, step: number): number {
  return seasonalNoveltyReach(s, step) * step;
}

/** The tolerance in points at this step. */
function tolerancePoints(s: SeasonalNovelty, step: number): number {
  const t = Math.round(s.toleranceSeconds / step);
  return s.maxTolerancePoints === undefined ? t : Math.min(t, s.maxTolerancePoints);
}

/** Points before i that d_i reads: the days looked back with their tolerance and shingle. */
export function seasonalDistanceReach(s: SeasonalNovelty, step: number): number {
  const P = Math.max(1, Math.round(DAY_SECONDS / step));
  return s.days * P + tolerancePoints(s, step) + s.shingle;
}

/**
 * Points before i that the novelty at i reads: a distance's reach and the normalisation span before it.
 * A mixed raw score at an index with less past than this in its segment depends on where the segment
 * starts, so the score memo keeps none before it.
 */
export function seasonalNoveltyReach(s: SeasonalNovelty, step: number): number {
  return seasonalDistanceReach(s, step) + Math.max(1, Math.round(s.normalizeSeconds / step));
}

/**
 * d_i (see above) for i ≥ `from` (NaN elsewhere and where no earlier day has a full shingle). O(days ×
 * (2·tolerance + 1) × shingle) per point, early-abandoned.
 */
export function seasonalDistance(
  values: ArrayLike<number>,
  step: number,
  s: SeasonalNovelty,
  from = 0
): Float64Array {
  const out = new Float64Array(values.length).fill(NaN);
  fillDistances(values, step, s, out, from);
  return out;
}

/** Writes d_i into `dist` for every i ≥ `from` where it is NaN (unknown); known ones are kept. */
function fillDistances(
  values: ArrayLike<number>,
  step: number,
  s: SeasonalNovelty,
  dist: Float64Array,
  from: number
): void {
  const n = values.length;
  const P = Math.max(1, Math.round(DAY_SECONDS / step));
  const tol = tolerancePoints(s, step);
  const M = s.shingle;
  let first = Math.max(from, M - 1);
  while (first < n && dist[first] === dist[first]) first++;
  if (first >= n) return;
  // The range at i reads the days·P points before it only.
  const lookback = s.days * P;
  const base = Math.max(0, first - lookback);
  const { lo, hi } = trailingRange(base === 0 ? values : Array.prototype.slice.call(values, base), lookback);
  for (let i = first; i < n; i++) {
    if (dist[i] === dist[i]) continue;
    let best = Infinity;
    for (let k = 1; k <= s.days; k++) {
      const c = i - k * P;
      const jHi = Math.min(c + tol, i - M);
      const jLo = Math.max(c - tol, M - 1);
      for (let j = jLo; j <= jHi; j++) {
        let sum = 0;
        for (let m = 0; m < M && sum < best; m++) {
          const x = values[i - m] - values[j - m];
          sum += x * x;
        }
        if (sum < best) best = sum;
      }
    }
    if (best === Infinity) continue;
    const h = hi[i - base];
    const l = lo[i - base];
    const range = h - l;
    const floor = 1e-3 * Math.max(Math.abs(h), Math.abs(l)) + 1e-9;
    dist[i] = Math.sqrt(best / M) / Math.max(range, floor);
  }
}

/**
 * The novelty n/(1 + n) per point from index `from` on (NaN where the distance is NaN or no earlier
 * distance of the normalisation span exists). Reads distances from `from` − span on; with `dist`, takes
 * the known ones from it and writes the rest into it.
 */
export function seasonalNovelty(
  values: ArrayLike<number>,
  step: number,
  s: SeasonalNovelty,
  from = 0,
  dist: Float64Array = new Float64Array(values.length).fill(NaN)
): Float64Array {
  const span = Math.max(1, Math.round(s.normalizeSeconds / step));
  const start = Math.max(0, from - span);
  fillDistances(values, step, s, dist, start);
  const d = dist;
  const n = values.length;
  const out = new Float64Array(n).fill(NaN);
  // Monotone deque of indices with decreasing distances: its head is the greatest of the previous span.
  const q = new Int32Array(n);
  let h = 0;
  let t = 0;
  for (let i = start; i < n; i++) {
    while (h < t && q[h] < i - span) h++;
    const x = d[i];
    if (x !== x) continue;
    if (i >= from && h < t) {
      const ref = d[q[h]];
      const ratio = ref > 0 ? x / ref : x > 0 ? Infinity : 0;
      out[i] = ratio === Infinity ? 1 : ratio / (1 + ratio);
    }
    while (h < t && d[q[t - 1]] <= x) t--;
    q[t++] = i;
  }
  return out;
}

/**
 * Mixes the forest's scores in `raw` from index `from` on with the seasonal novelty, in place:
 * w·raw + (1 − w)·novelty where both exist, the forest's score alone where the series is too young for a
 * novelty. The points before `from` are left as they are (already mixed, or not wanted). `dist` carries
 * the distances between calls (a kept segment's, score-memo.ts), so a refresh computes only the new ones.
 */
export function mixSeasonalInto(
  values: ArrayLike<number>,
  raw: Float64Array,
  step: number,
  s: SeasonalNovelty,
  from: number,
  dist?: Float64Array
): void {
  if (from >= raw.length) return;
  const nov = seasonalNovelty(values, step, s, from, dist);
  const w = s.forestWeight;
  for (let i = from; i < raw.length; i++) {
    const a = nov[i];
    if (raw[i] === raw[i] && a === a) raw[i] = w * raw[i] + (1 - w) * a;
  }
}
