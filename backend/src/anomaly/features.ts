/**
 * Per-point features for the anomaly detector, each computed from the point and its past only (so a
 * stream can be scored as it arrives) and free of the series' unit (so one forest serves every series).
 */

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

/** Fewest points a series at this step needs for its first feature row. */
export function minimumPoints(cfg: FeatureConfig, step: number): number {
  const lag = seasonLag(cfg, step);
  return cfg.window + (lag > 0 ? lag + seasonTolerance(cfg, step) : 0) + 1;
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
 * Feature rows for every point with enough past (see minimumPoints). `residuals[i]` (actual − forecast
 * at i, NaN where there is no forecast) is required when the config names `residual`; points without a
 * residual are skipped. Throws FeatureError for non-finite values or a series that is too short.
 */
export function computeFeatures(
  values: ArrayLike<number>,
  step: number,
  cfg: FeatureConfig = DEFAULT_FEATURE_CONFIG,
  residuals?: ArrayLike<number>
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

  // Prefix sums make every window statistic O(1).
  const p1 = new Float64Array(n + 1);
  const p2 = new Float64Array(n + 1);
  const d1 = new Float64Array(n + 1); // first differences, diff[i] = v[i] − v[i−1] (diff[0] = 0)
  const d2 = new Float64Array(n + 1);
  const r1 = new Float64Array(n + 1);
  const r2 = new Float64Array(n + 1);
  const rc = new Float64Array(n + 1);
  for (let i = 0; i < n; i++) {
    const v = values[i];
    const df = i > 0 ? v - values[i - 1] : 0;
    p1[i + 1] = p1[i] + v;
    p2[i + 1] = p2[i] + v * v;
    d1[i + 1] = d1[i] + df;
    d2[i + 1] = d2[i] + df * df;
    const r = wantResidual ? residuals![i] : NaN;
    const ok = Number.isFinite(r);
    r1[i + 1] = r1[i] + (ok ? r : 0);
    r2[i + 1] = r2[i] + (ok ? r * r : 0);
    rc[i + 1] = rc[i] + (ok ? 1 : 0);
  }
  const std = (s1: number, s2: number, k: number) => Math.sqrt(Math.max(0, s2 / k - (s1 / k) ** 2));

  const lag = seasonLag(cfg, step);
  const tol = seasonTolerance(cfg, step);

  // Sliding min and max of the longer past (one season, else 4 windows) for `exceedance`.
  const longSpan = lag > 0 ? lag : 4 * W;
  const longLo = new Float64Array(n).fill(NaN);
  const longHi = new Float64Array(n).fill(NaN);
  if (cfg.names.includes('exceedance')) {
    const qmax = new Int32Array(n);
    const qmin = new Int32Array(n);
    let h1 = 0,
      t1 = 0,
      h2 = 0,
      t2 = 0;
    for (let i = 0; i < n; i++) {
      // State before adding i describes points i−longSpan … i−1.
      while (h1 < t1 && qmax[h1] < i - longSpan) h1++;
      while (h2 < t2 && qmin[h2] < i - longSpan) h2++;
      if (h1 < t1) longHi[i] = values[qmax[h1]];
      if (h2 < t2) longLo[i] = values[qmin[h2]];
      while (h1 < t1 && values[qmax[t1 - 1]] <= values[i]) t1--;
      qmax[t1++] = i;
      while (h2 < t2 && values[qmin[t2 - 1]] >= values[i]) t2--;
      qmin[t2++] = i;
    }
  }

  // Raw (ungated) features for every point with a full trailing window; NaN rows before that.
  const raw = new Float64Array(n * d).fill(NaN);
  for (let i = W; i < n; i++) {
    const v = values[i];
    // Past window: points i−W … i−1.
    const mean = (p1[i] - p1[i - W]) / W;
    const sd = std(p1[i] - p1[i - W], p2[i] - p2[i - W], W);
    let lo = Infinity;
    let hi = -Infinity;
    for (let k = i - W; k < i; k++) {
      const x = values[k];
      if (x < lo) lo = x;
      if (x > hi) hi = x;
    }
    // A floor on the spread: quantised or idle series have near-zero variance, and a change of one
    // quantum must not look like a hundred-sigma event.
    const floor = 1e-3 * Math.max(Math.abs(mean), hi - lo) + 1e-9;
    const scale = Math.max(sd, floor);
    // Differences inside the past window: diff[i−W+1] … diff[i−1].
    const dscale = Math.max(std(d1[i] - d1[i - W + 1], d2[i] - d2[i - W + 1], W - 1), floor);
    const shortSd = std(p1[i + 1] - p1[i + 1 - S], p2[i + 1] - p2[i + 1 - S], S);
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
          f = slog(v > longHi[i] ? (v - longHi[i]) / scale : v < longLo[i] ? (v - longLo[i]) / scale : 0);
          break;
        case 'residual': {
          const r = residuals![i];
          const cnt = rc[i] - rc[i - W];
          const rsd = cnt >= 2 ? std(r1[i] - r1[i - W], r2[i] - r2[i - W], cnt) : 0;
          f = Number.isFinite(r) ? slog(r / Math.max(rsd, scale)) : NaN;
          break;
        }
      }
      raw[i * d + j] = f;
    }
  }

  const out: FeatureRows = { index: [], rows: [] };
  for (let i = need - 1; i < n; i++) {
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
