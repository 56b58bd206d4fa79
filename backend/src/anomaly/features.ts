/**
 * Per-point features for the anomaly detector, each computed from the point and its past only (so a
 * stream can be scored as it arrives) and free of the series' unit (so one forest serves every series).
 */
import { trailingRange } from '../series/window';

export type FeatureName = 'value' | 'diff' | 'zscore' | 'spread_ratio' | 'exceedance' | 'residual';

export interface FeatureConfig {
  /** Trailing points (before the current one) that give the reference level and spread. */
  window: number;
  /** Recent points (ending at the current one) whose spread is compared with the trailing window's. */
  shortWindow: number;
  /** Features in column order. `residual` needs a forecaster's residuals. */
  names: FeatureName[];
  /**
   * Length of the season (seconds; a day for workloads). When set, each feature counts only by how far
   * it lies outside the range that same feature spanned one season earlier (± shortWindow points), so
   * a nightly batch spike that happens every day stops looking new. Needs one season more history.
   */
  seasonSeconds?: number;
  /** How far (seconds, either side of the same time one season earlier) the gating looks; default shortWindow points. */
  seasonToleranceSeconds?: number;
}

export const DEFAULT_FEATURE_CONFIG: FeatureConfig = {
  window: 48,
  shortWindow: 6,
  names: ['value', 'diff', 'zscore', 'spread_ratio', 'exceedance'],
  seasonSeconds: 86400,
  seasonToleranceSeconds: 1800,
};

export class FeatureError extends Error {
  constructor(
    readonly reason: 'too_short' | 'non_finite' | 'constant' | 'bad_config' | 'missing_residuals',
    message: string
  ) {
    super(message);
    this.name = 'FeatureError';
  }
}

/** Points one season spans at this step (0 without seasonal gating). */
export function seasonLag(cfg: FeatureConfig, step: number): number {
  if (!cfg.seasonSeconds) return 0;
  return Math.max(1, Math.round(cfg.seasonSeconds / step));
}

/** Points either side of the same time one season earlier that the gating looks at. */
export function seasonTolerance(cfg: FeatureConfig, step: number): number {
  if (cfg.seasonToleranceSeconds === undefined) return cfg.shortWindow;
  return Math.max(0, Math.round(cfg.seasonToleranceSeconds / step));
}

/**
 * Fewest points a series at this step needs for its first feature row: a row reads its own features and,
 * with seasonal gating, those of the points one season (± tolerance) earlier, and each of those reads its
 * trailing window (and, for `exceedance`, the longer past). With exactly this much past a point's row is
 * the one a long stream gives it, to the bit; with less, it has no row.
 */
export function minimumPoints(cfg: FeatureConfig, step: number): number {
  const lag = seasonLag(cfg, step);
  const past = cfg.names.includes('exceedance') ? Math.max(cfg.window, longSpan(cfg, step)) : cfg.window;
  return past + (lag > 0 ? lag + seasonTolerance(cfg, step) : 0) + 1;
}

/** Points of the longer past `exceedance` compares with: one season, else 4 windows. */
export function longSpan(cfg: FeatureConfig, step: number): number {
  const lag = seasonLag(cfg, step);
  return lag > 0 ? lag : 4 * cfg.window;
}

export function validateFeatureConfig(cfg: FeatureConfig): void {
  if (!(Number.isInteger(cfg.window) && cfg.window >= 3))
    throw new FeatureError('bad_config', 'window must be an integer ≥ 3');
  if (!(Number.isInteger(cfg.shortWindow) && cfg.shortWindow >= 2 && cfg.shortWindow <= cfg.window)) {
    throw new FeatureError('bad_config', 'shortWindow must be an integer in [2, window]');
  }
  if (!Array.isArray(cfg.names) || cfg.names.length === 0)
    throw new FeatureError('bad_config', 'no features named');
  const known: FeatureName[] = ['value', 'diff', 'zscore', 'spread_ratio', 'exceedance', 'residual'];
  for (const n of cfg.names)
    if (!known.includes(n)) throw new FeatureError('bad_config', `unknown feature "${n}"`);
  if (cfg.seasonSeconds !== undefined && !(cfg.seasonSeconds > 0)) {
    throw new FeatureError('bad_config', 'seasonSeconds must be > 0 when set');
  }
}

/** Compresses heavy tails so random cuts are not all spent between the extreme values. */
function slog(x: number): number {
  return x >= 0 ? Math.log1p(x) : -Math.log1p(-x);
}

export interface FeatureRows {
  /** Index (into the input) of the point each row describes. */
  index: number[];
  rows: Float64Array[];
}

/**
 * Feature rows for every point with enough past (see minimumPoints), from index `from` on (the points
 * before it are read as past only). `residuals[i]` (actual − forecast at i, NaN where there is no
 * forecast) is required when the config names `residual`; points without a residual are skipped. Throws
 * FeatureError for non-finite values or a series that is too short.
 */
export function computeFeatures(
  values: ArrayLike<number>,
  step: number,
  cfg: FeatureConfig = DEFAULT_FEATURE_CONFIG,
  residuals?: ArrayLike<number>,
  from = 0
): FeatureRows {
  validateFeatureConfig(cfg);
  const n = values.length;
  for (let i = 0; i < n; i++) {
    if (!Number.isFinite(values[i]))
      throw new FeatureError('non_finite', `value at index ${i} is ${values[i]}`);
  }
  if (!(step > 0)) throw new FeatureError('bad_config', `step must be > 0, got ${step}`);
  const need = minimumPoints(cfg, step);
  if (n < need) {
    throw new FeatureError(
      'too_short',
      `series has ${n} points; the anomaly features need at least ${need} (${need - 1} points of past at step ${step} s)`
    );
  }
  const wantResidual = cfg.names.includes('residual');
  if (wantResidual && (!residuals || residuals.length !== n)) {
    throw new FeatureError('missing_residuals', `the "residual" feature needs one residual per point (${n})`);
  }
  const W = cfg.window;
  const S = cfg.shortWindow;
  const d = cfg.names.length;

  const std = (s1: number, s2: number, k: number) => Math.sqrt(Math.max(0, s2 / k - (s1 / k) ** 2));

  const lag = seasonLag(cfg, step);
  const tol = seasonTolerance(cfg, step);

  // Least and greatest of the longer past (one season, else 4 windows) for `exceedance`.
  const long = cfg.names.includes('exceedance') ? trailingRange(values, longSpan(cfg, step)) : undefined;

  // Raw (ungated) features, NaN where not computed. Every window statistic is summed over its own window,
  // not taken from prefix sums: then a point's features depend on its window only, not on where the input
  // starts, to the bit, so the scores of a stream's older points can be kept while only new points are
  // scored (anomaly/score-memo.ts).
  const raw = new Float64Array(n * d).fill(NaN);
  // Only where a row reads them: at the row's point and (with gating) the points a season before it. A
  // stream's new points, scored with just the past they need (score-memo.ts), read a few dozen, not all.
  const first = Math.max(need - 1, from);
  const wanted = new Uint8Array(n);
  for (let i = first; i < n; i++) {
    wanted[i] = 1;
    if (lag > 0) wanted.fill(1, i - lag - tol, Math.min(i - lag + tol, i - 1) + 1);
  }
  for (let i = W; i < n; i++) {
    if (!wanted[i]) continue;
    const v = values[i];
    // Past window: points i−W … i−1; its differences diff[i−W+1] … diff[i−1].
    let lo = Infinity;
    let hi = -Infinity;
    let s1 = 0;
    let s2 = 0;
    let ds1 = 0;
    let ds2 = 0;
    for (let k = i - W; k < i; k++) {
      const x = values[k];
      if (x < lo) lo = x;
      if (x > hi) hi = x;
      s1 += x;
      s2 += x * x;
      if (k > i - W) {
        const df = x - values[k - 1];
        ds1 += df;
        ds2 += df * df;
      }
    }
    let ss1 = 0;
    let ss2 = 0;
    for (let k = i + 1 - S; k <= i; k++) {
      ss1 += values[k];
      ss2 += values[k] * values[k];
    }
    const mean = s1 / W;
    const sd = std(s1, s2, W);
    // A floor on the spread: quantised or idle series have near-zero variance, and a change of one
    // quantum must not look like a hundred-sigma event.
    const floor = 1e-3 * Math.max(Math.abs(mean), hi - lo) + 1e-9;
    const scale = Math.max(sd, floor);
    // Differences inside the past window: diff[i−W+1] … diff[i−1].
    const dscale = Math.max(std(ds1, ds2, W - 1), floor);
    const shortSd = std(ss1, ss2, S);
    for (let j = 0; j < d; j++) {
      let f: number;
      switch (cfg.names[j]) {
        case 'value':
          // Where the point sits against the past window's range: −0.5 at its minimum, 0.5 at its maximum.
          f = slog((v - lo) / Math.max(hi - lo, floor) - 0.5);
          break;
        case 'diff':
          f = slog((v - values[i - 1]) / dscale);
          break;
        case 'zscore':
          f = slog((v - mean) / scale);
          break;
        case 'spread_ratio':
          f = Math.log((shortSd + floor) / (scale + floor));
          break;
        case 'exceedance':
          // Beyond everything the longer past did, in spreads; 0 inside that envelope.
          f = slog(
            v > long!.hi[i] ? (v - long!.hi[i]) / scale : v < long!.lo[i] ? (v - long!.lo[i]) / scale : 0
          );
          break;
        case 'residual': {
          const r = residuals![i];
          let cnt = 0;
          let r1 = 0;
          let r2 = 0;
          for (let k = i - W; k < i; k++) {
            const x = residuals![k];
            if (!Number.isFinite(x)) continue;
            cnt++;
            r1 += x;
            r2 += x * x;
          }
          const rsd = cnt >= 2 ? std(r1, r2, cnt) : 0;
          f = Number.isFinite(r) ? slog(r / Math.max(rsd, scale)) : NaN;
          break;
        }
      }
      raw[i * d + j] = f;
    }
  }

  const out: FeatureRows = { index: [], rows: [] };
  for (let i = first; i < n; i++) {
    const row = new Float64Array(d);
    let ok = true;
    for (let j = 0; j < d; j++) {
      const f = raw[i * d + j];
      if (!Number.isFinite(f)) {
        ok = false;
        break;
      }
      if (lag === 0) {
        row[j] = f;
        continue;
      }
      let lo = Infinity;
      let hi = -Infinity;
      for (let k = i - lag - tol; k <= Math.min(i - lag + tol, i - 1); k++) {
        const x = raw[k * d + j];
        if (x < lo) lo = x;
        if (x > hi) hi = x;
      }
      // NaN bounds (no residual a season ago) leave the feature as it is.
      // Outside last season's range: keep (f² − edge²)/f, which is ≈ f when last season stayed small
      // and ≈ 0 when it reached nearly as far (a recurring event).
      const edge = f > hi ? Math.max(hi, 0) : f < lo ? Math.min(lo, 0) : f;
      row[j] = f === 0 ? 0 : (f * f - edge * edge) / f;
      if (!(lo <= hi)) row[j] = f;
    }
    if (!ok) continue;
    out.index.push(i);
    out.rows.push(row);
  }
  return out;
}
