/**
 * Training windows for the LSTM, per docs/definitions.md's rules: each series resampled to the step, split into
 * segments at gaps, min-max scaled on its training part only (the first 80 % of its points by count),
 * and windows cut so that no window (history or targets) crosses a gap or the train/validation/test
 * boundaries. The last 20 % of every series is never read here: it is the backtest's test part.
 */
import { resample } from '../series/resample';
import { MinMaxScaler } from '../series/scaler';
import type { Point, Segment } from '../series/types';
import { FEATURES, writeFeatures, type FeatureConfig } from './lstm';

export interface SeriesInput {
  name: string;
  points: Point[];
}

export interface SplitSeries {
  name: string;
  scaler: MinMaxScaler;
  /** Scaled segments of the training part (up to the validation boundary). */
  train: Segment[];
  /** Scaled segments of the validation part (the last `valFraction` of the training part). */
  validation: Segment[];
}

export interface SplitOptions {
  step: number;
  /** Fraction of each series' points that is the training part (the rest is the test part). Default 0.8. */
  trainFraction?: number;
  /** Fraction of the training part kept for validation, at its end. Default 0.15. */
  valFraction?: number;
}

/** Cuts segments at a point index boundary (counted over all segments in time order). */
function cutSegments(segments: Segment[], from: number, to: number): Segment[] {
  const out: Segment[] = [];
  let offset = 0;
  for (const seg of segments) {
    const a = Math.max(from - offset, 0);
    const b = Math.min(to - offset, seg.values.length);
    if (b > a) out.push({ start: seg.start + a * seg.step, step: seg.step, values: seg.values.slice(a, b) });
    offset += seg.values.length;
  }
  return out;
}

export type SkipReason = 'constant' | 'too_short';

export function splitSeries(
  series: SeriesInput[],
  opts: SplitOptions
): { split: SplitSeries[]; skipped: Array<{ name: string; reason: SkipReason }> } {
  const trainFraction = opts.trainFraction ?? 0.8;
  const valFraction = opts.valFraction ?? 0.15;
  const split: SplitSeries[] = [];
  const skipped: Array<{ name: string; reason: SkipReason }> = [];
  for (const s of series) {
    const segments = resample(s.points, opts.step);
    const n = segments.reduce((a, seg) => a + seg.values.length, 0);
    if (n < 2) {
      skipped.push({ name: s.name, reason: 'too_short' });
      continue;
    }
    const nTrain = Math.floor(n * trainFraction);
    const nFit = Math.floor(nTrain * (1 - valFraction));
    const trainPart = cutSegments(segments, 0, nTrain);
    const scaler = MinMaxScaler.fit(trainPart.flatMap((seg) => seg.values));
    if (scaler.isConstant) {
      skipped.push({ name: s.name, reason: 'constant' });
      continue;
    }
    const scale = (segs: Segment[]) =>
      segs.map((seg) => ({ ...seg, values: scaler.transformAll(seg.values) }));
    split.push({
      name: s.name,
      scaler,
      train: scale(cutSegments(segments, 0, nFit)),
      validation: scale(cutSegments(segments, nFit, nTrain)),
    });
  }
  return { split, skipped };
}

export interface WindowSet {
  /** count × lookback × features */
  x: Float32Array;
  /** count × horizons: the change from the window's last value */
  y: Float32Array;
  /** Last value of each window (to rebuild levels from changes). */
  last: Float32Array;
  /** Weight of each window in the training loss; absent: all 1. */
  weight?: Float32Array;
  count: number;
}

/** Window end indices of a segment: full lookback behind, every horizon inside the segment. */
export function windowEnds(length: number, cfg: FeatureConfig): number[] {
  const ends: number[] = [];
  for (let e = cfg.lookback - 1; e + cfg.horizons < length; e++) ends.push(e);
  return ends;
}

/**
 * Root mean square of the H-step change v[t + H] − v[t] over a series' segments: how much it moves an hour
 * ahead, the error persistence would make. 0 for segments too short to have one.
 */
export function changeRms(segments: Segment[], horizons: number): number {
  let ss = 0;
  let n = 0;
  for (const { values } of segments) {
    for (let t = 0; t + horizons < values.length; t++) {
      ss += (values[t + horizons] - values[t]) ** 2;
      n++;
    }
  }
  return n > 0 ? Math.sqrt(ss / n) : 0;
}

/**
 * Builds windows from segments, at most `maxPerSeries` per series (an even, seeded sample) so that long
 * series do not drown short ones; given as an array, the cap is per series (to balance datasets).
 * `seriesWeight`, when given, is every window's loss weight by series.
 */
export function buildWindows(
  perSeries: Segment[][],
  cfg: FeatureConfig,
  opts: { maxPerSeries: number | number[]; rng: () => number; seriesWeight?: number[] }
): WindowSet {
  const picks: Array<[Segment, number]> = [];
  const pickSeries: number[] = [];
  for (const [s, segments] of perSeries.entries()) {
    const cap = typeof opts.maxPerSeries === 'number' ? opts.maxPerSeries : opts.maxPerSeries[s];
    const all: Array<[Segment, number]> = [];
    for (const seg of segments) for (const e of windowEnds(seg.values.length, cfg)) all.push([seg, e]);
    if (all.length > cap) {
      for (let i = all.length - 1; i > 0; i--) {
        const j = Math.floor(opts.rng() * (i + 1));
        [all[i], all[j]] = [all[j], all[i]];
      }
      all.length = cap;
    }
    picks.push(...all);
    for (let k = 0; k < all.length; k++) pickSeries.push(s);
  }
  const F = FEATURES.length;
  const { lookback: L, horizons: H } = cfg;
  const x = new Float32Array(picks.length * L * F);
  const y = new Float32Array(picks.length * H);
  const last = new Float32Array(picks.length);
  picks.forEach(([seg, e], k) => {
    // Only the segment's values up to e are visible to the features.
    writeFeatures(seg.values, e, seg.start + e * seg.step, cfg, x, k * L * F);
    const v = seg.values[e];
    last[k] = v;
    for (let h = 0; h < H; h++) y[k * H + h] = seg.values[e + 1 + h] - v;
  });
  const sw = opts.seriesWeight;
  const weight = sw ? Float32Array.from(pickSeries, (s) => sw[s]) : undefined;
  return { x, y, last, ...(weight ? { weight } : {}), count: picks.length };
}
