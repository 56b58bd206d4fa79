/**
 * The baseline forecasters docs/definitions.md reports beside the LSTM. All work on scaled values at the series'
 * step and read only an origin's in-segment history, so none of them looks across a gap.
 */
import type { FitContext, ForecastModel, ForecastOrigin, OriginForecast, TrainingPart } from './model';

const DAY = 86400;

/** A model that must be fitted before it predicts. */
type FittedModel = ForecastModel & Required<Pick<ForecastModel, 'fit'>>;

/** Points per day at `step`: the season of the daily baselines. */
export function seasonLength(step: number): number {
  const m = Math.round(DAY / step);
  if (!(m >= 1)) throw new RangeError(`step ${step} s is longer than a day`);
  return m;
}

function lastValue(origin: ForecastOrigin): number {
  if (origin.history.length === 0) throw new RangeError('an origin needs at least one history value');
  return origin.history[origin.history.length - 1];
}

/** Last value, for every horizon. */
export function persistence(): ForecastModel {
  return {
    name: 'persistence',
    predict: (origins, horizons) =>
      origins.map((o) => ({ mean: new Float64Array(horizons).fill(lastValue(o)) })),
  };
}

/** The value at the same time one day earlier. */
export function seasonalNaive(step: number): ForecastModel {
  const m = seasonLength(step);
  return {
    name: 'seasonal_naive',
    predict: (origins, horizons) =>
      origins.map((o) => {
        const n = o.history.length;
        if (n < m) throw new RangeError(`seasonal_naive needs ${m} points of history, got ${n}`);
        const mean = new Float64Array(horizons);
        // Beyond one day ahead the last observed day repeats.
        for (let h = 1; h <= horizons; h++) mean[h - 1] = o.history[n - 1 - m + (((h - 1) % m) + 1)];
        return { mean };
      }),
  };
}

// ---------------------------------------------------------------------------------------------------------
// Holt-Winters

export interface HoltWintersParams {
  alpha: number;
  beta: number;
  gamma: number;
}

/** Used where a series' training part has no segment longer than a season to fit on. */
export const HOLT_WINTERS_DEFAULTS: HoltWintersParams = { alpha: 0.5, beta: 0, gamma: 0.1 };

interface HwState {
  level: number;
  trend: number;
  /** Seasonal terms by phase: index (t mod m) for segment-local time t. */
  season: Float64Array;
}

/**
 * Runs additive Holt-Winters (level, trend, daily season) over `values` from their start. The state starts
 * from the first season (level = its mean, trend 0, season = deviations from that mean), so it is valid from
 * index m − 1 on. `visit(t, state)` is called after value t is absorbed, for t ≥ m − 1. Returns the sum of
 * squared errors of the forecasts 1..`horizons` steps ahead made from every such state (targets inside
 * `values` only).
 */
function runHoltWinters(
  values: ArrayLike<number>,
  m: number,
  p: HoltWintersParams,
  horizons: number,
  visit?: (t: number, s: HwState) => void
): number {
  const n = values.length;
  if (n < m) throw new RangeError(`holt_winters needs ${m} points of history, got ${n}`);
  let level = 0;
  for (let i = 0; i < m; i++) level += values[i];
  level /= m;
  const season = new Float64Array(m);
  for (let i = 0; i < m; i++) season[i] = values[i] - level;
  let trend = 0;
  const state: HwState = { level, trend, season };
  const { alpha, beta, gamma } = p;
  let sse = 0;
  for (let t = m - 1; ; t++) {
    const last = Math.min(horizons, n - 1 - t);
    for (let h = 1; h <= last; h++) {
      const err = values[t + h] - (level + h * trend + season[(t + h) % m]);
      sse += err * err;
    }
    if (visit) {
      state.level = level;
      state.trend = trend;
      visit(t, state);
    }
    if (t + 1 >= n) break;
    const phase = (t + 1) % m;
    const x = values[t + 1];
    const s = season[phase];
    const prevLevel = level;
    level = alpha * (x - s) + (1 - alpha) * (level + trend);
    trend = beta * (level - prevLevel) + (1 - beta) * trend;
    season[phase] = gamma * (x - level) + (1 - gamma) * s;
  }
  return sse;
}

/**
 * Smoothing parameters that minimise the squared error of the 1..`horizons`-step forecasts, summed over the
 * training segments longer than a season. Fitting on every scored horizon rather than one step matters:
 * one-step SSE tends to pick gamma ≈ 1 (season = yesterday's noise), which is good 10 min ahead and poor
 * an hour ahead. Search: a coarse grid over [0,1]³, then a pattern search around its best point (±step on
 * each parameter, step halved from 0.05 to 1/160 whenever no move improves). Plain and deterministic; the
 * error surface is smooth enough for this to land within a few 1e-3 of the optimum.
 */
export function fitHoltWinters(segments: ArrayLike<number>[], m: number, horizons = 1): HoltWintersParams {
  const usable = segments.filter((s) => s.length > m);
  if (usable.length === 0) return { ...HOLT_WINTERS_DEFAULTS };
  const sse = (p: HoltWintersParams) => usable.reduce((acc, s) => acc + runHoltWinters(s, m, p, horizons), 0);

  let best = { ...HOLT_WINTERS_DEFAULTS };
  let bestSse = sse(best);
  for (const alpha of [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1]) {
    for (const beta of [0, 0.01, 0.05, 0.2]) {
      for (const gamma of [0, 0.05, 0.1, 0.2, 0.4, 0.7]) {
        const e = sse({ alpha, beta, gamma });
        if (e < bestSse) {
          bestSse = e;
          best = { alpha, beta, gamma };
        }
      }
    }
  }
  const keys: (keyof HoltWintersParams)[] = ['alpha', 'beta', 'gamma'];
  for (let step = 0.05; step >= 1 / 160;) {
    let moved = false;
    for (const k of keys) {
      for (const dir of [-1, 1]) {
        const v = Math.min(1, Math.max(0, best[k] + dir * step));
        if (v === best[k]) continue;
        const cand = { ...best, [k]: v };
        const e = sse(cand);
        if (e < bestSse) {
          bestSse = e;
          best = cand;
          moved = true;
        }
      }
    }
    if (!moved) step /= 2;
  }
  return best;
}

/** Additive Holt-Winters with a daily season, smoothing parameters fitted per series on its training part. */
export function holtWinters(step: number): FittedModel & { params: HoltWintersParams[] } {
  const m = seasonLength(step);
  const params: HoltWintersParams[] = [];
  return {
    name: 'holt_winters',
    params,
    fit(parts: TrainingPart[], ctx: FitContext) {
      params.length = 0;
      for (const part of parts) {
        params.push(
          fitHoltWinters(
            part.segments.map((s) => s.values),
            m,
            ctx.horizons
          )
        );
      }
    },
    predict(origins, horizons) {
      const out: OriginForecast[] = new Array(origins.length);
      // The state at an origin depends on the whole segment before it, so run the filter once per segment
      // over its longest asked-for history and read the state off at every asked-for origin.
      const bySegment = new Map<string, number[]>();
      origins.forEach((o, i) => {
        const key = `${o.series}:${o.segment}`;
        const list = bySegment.get(key);
        if (list) list.push(i);
        else bySegment.set(key, [i]);
      });
      for (const idx of bySegment.values()) {
        const first = origins[idx[0]];
        const p = params[first.series];
        if (!p) throw new Error(`holt_winters was not fitted for series ${first.series}`);
        let longest = first;
        const wanted = new Map<number, number[]>();
        for (const i of idx) {
          const o = origins[i];
          if (o.history.length > longest.history.length) longest = o;
          const t = o.history.length - 1;
          const list = wanted.get(t);
          if (list) list.push(i);
          else wanted.set(t, [i]);
        }
        runHoltWinters(longest.history, m, p, 0, (t, s) => {
          const at = wanted.get(t);
          if (!at) return;
          const mean = new Float64Array(horizons);
          for (let h = 1; h <= horizons; h++) mean[h - 1] = s.level + h * s.trend + s.season[(t + h) % m];
          for (const i of at) out[i] = { mean };
        });
      }
      return out;
    },
  };
}

// ---------------------------------------------------------------------------------------------------------
// AR: direct least-squares map per horizon

export const AR_ORDER = 6;

/**
 * Least squares min ‖Xβ − y‖ for a row-major n×k X by Householder QR. Where X is rank-deficient (e.g. a
 * training part that is flat in places) the QR solution is unstable, so it falls back to ridge-regularised
 * normal equations with a negligible penalty.
 */
export function leastSquares(X: Float64Array, y: Float64Array, n: number, k: number): Float64Array {
  if (n < k) return ridge(X, y, n, k);
  const A = Float64Array.from(X);
  const b = Float64Array.from(y);
  const diag = new Float64Array(k);
  for (let j = 0; j < k; j++) {
    let norm = 0;
    for (let i = j; i < n; i++) norm += A[i * k + j] ** 2;
    norm = Math.sqrt(norm);
    if (norm === 0) return ridge(X, y, n, k);
    const alpha = A[j * k + j] > 0 ? -norm : norm;
    // v = a_j − alpha e_j, stored in place in column j (rows j..n-1).
    A[j * k + j] -= alpha;
    let vv = 0;
    for (let i = j; i < n; i++) vv += A[i * k + j] ** 2;
    if (vv > 0) {
      for (let c = j + 1; c < k; c++) {
        let dot = 0;
        for (let i = j; i < n; i++) dot += A[i * k + j] * A[i * k + c];
        const f = (2 * dot) / vv;
        for (let i = j; i < n; i++) A[i * k + c] -= f * A[i * k + j];
      }
      let dot = 0;
      for (let i = j; i < n; i++) dot += A[i * k + j] * b[i];
      const f = (2 * dot) / vv;
      for (let i = j; i < n; i++) b[i] -= f * A[i * k + j];
    }
    diag[j] = alpha;
  }
  const maxDiag = Math.max(...Array.from(diag, Math.abs));
  if (diag.some((d) => Math.abs(d) <= 1e-10 * maxDiag)) return ridge(X, y, n, k);
  const beta = new Float64Array(k);
  for (let j = k - 1; j >= 0; j--) {
    let s = b[j];
    for (let c = j + 1; c < k; c++) s -= A[j * k + c] * beta[c];
    beta[j] = s / diag[j];
  }
  return beta;
}

function ridge(X: Float64Array, y: Float64Array, n: number, k: number): Float64Array {
  const G = new Float64Array(k * k);
  const r = new Float64Array(k);
  for (let i = 0; i < n; i++) {
    for (let a = 0; a < k; a++) {
      const xa = X[i * k + a];
      r[a] += xa * y[i];
      for (let c = 0; c < k; c++) G[a * k + c] += xa * X[i * k + c];
    }
  }
  for (let a = 0; a < k; a++) G[a * k + a] += 1e-8 * Math.max(1, n);
  // Cholesky: G is symmetric positive definite after the penalty.
  const L = new Float64Array(k * k);
  for (let a = 0; a < k; a++) {
    for (let c = 0; c <= a; c++) {
      let s = G[a * k + c];
      for (let q = 0; q < c; q++) s -= L[a * k + q] * L[c * k + q];
      L[a * k + c] = a === c ? Math.sqrt(s) : s / L[c * k + c];
    }
  }
  const z = new Float64Array(k);
  for (let a = 0; a < k; a++) {
    let s = r[a];
    for (let q = 0; q < a; q++) s -= L[a * k + q] * z[q];
    z[a] = s / L[a * k + a];
  }
  const beta = new Float64Array(k);
  for (let a = k - 1; a >= 0; a--) {
    let s = z[a];
    for (let q = a + 1; q < k; q++) s -= L[q * k + a] * beta[q];
    beta[a] = s / L[a * k + a];
  }
  return beta;
}

/**
 * Coefficients [w_1 … w_p, c] (w_1 on the oldest of the last p points) of the map to the value h steps
 * ahead, fitted on every window of the training segments whose target is inside the same segment. A series
 * with no such window gets persistence weights (last value, no constant).
 */
export function fitAr(segments: ArrayLike<number>[], h: number, order = AR_ORDER): Float64Array {
  const k = order + 1;
  let n = 0;
  for (const s of segments) n += Math.max(0, s.length - order - h + 1);
  if (n === 0) {
    const w = new Float64Array(k);
    w[order - 1] = 1;
    return w;
  }
  const X = new Float64Array(n * k);
  const y = new Float64Array(n);
  let row = 0;
  for (const s of segments) {
    for (let end = order - 1; end + h < s.length; end++, row++) {
      for (let j = 0; j < order; j++) X[row * k + j] = s[end - order + 1 + j];
      X[row * k + order] = 1;
      y[row] = s[end + h];
    }
  }
  return leastSquares(X, y, n, k);
}

/** Per series and horizon, a least-squares linear map from the last 6 points and a constant. */
export function ar(order = AR_ORDER): FittedModel & { coefficients: Float64Array[][] } {
  const coefficients: Float64Array[][] = [];
  return {
    name: 'ar',
    coefficients,
    fit(parts: TrainingPart[], ctx: FitContext) {
      coefficients.length = 0;
      for (const part of parts) {
        const segs = part.segments.map((s) => s.values);
        const perH: Float64Array[] = [];
        for (let h = 1; h <= ctx.horizons; h++) perH.push(fitAr(segs, h, order));
        coefficients.push(perH);
      }
    },
    predict(origins, horizons) {
      return origins.map((o) => {
        const w = coefficients[o.series];
        if (!w || w.length < horizons)
          throw new Error(`ar was not fitted for series ${o.series} and ${horizons} horizons`);
        const n = o.history.length;
        if (n < order) throw new RangeError(`ar needs ${order} points of history, got ${n}`);
        const mean = new Float64Array(horizons);
        for (let h = 1; h <= horizons; h++) {
          const c = w[h - 1];
          let v = c[order];
          for (let j = 0; j < order; j++) v += c[j] * o.history[n - order + j];
          mean[h - 1] = v;
        }
        return { mean };
      });
    },
  };
}

/** The four baselines docs/definitions.md names, by name. */
export function baselineModels(step: number): Record<string, () => ForecastModel> {
  return {
    persistence: () => persistence(),
    seasonal_naive: () => seasonalNaive(step),
    holt_winters: () => holtWinters(step),
    ar: () => ar(),
  };
}
