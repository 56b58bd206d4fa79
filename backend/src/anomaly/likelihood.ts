/**
 * The anomaly likelihood of Ahmad, Lavin, Purdy & Agha 2017 ("Unsupervised real-time anomaly detection
 * for streaming data", Neurocomputing 262), the post-processing HTM uses in NAB: how unusual the latest
 * raw scores are against the distribution of the raw scores before them. Streaming: each output depends
 * on its own and earlier scores only.
 *
 * Measured on the NAB AWS series it lowers our Isolation Forest's score (see `evaluate:anomaly
 * --likelihood`), so the shipped detector does not use it; it is kept to make that figure reproducible.
 */
import { rawScores, servedScores, type AnomalyDetector } from './detector';

export interface LikelihoodConfig {
  /** W: raw scores (ending at the current one) whose mean and spread model "normal" (the paper's μ_t, σ_t). */
  window: number;
  /** W′: latest raw scores (ending at the current one) averaged into μ̃_t; the paper's W′ ≪ W. */
  shortWindow: number;
  /** σ_t² is raised to at least this, so a near-constant score stream does not turn every blip into 1. */
  varianceFloor: number;
}

/** LikelihoodConfig with W as a time span, so the history it needs is the same at every step. */
export interface LikelihoodParams {
  windowSeconds: number;
  shortWindow: number;
  varianceFloor: number;
}

/**
 * Parameters as published, not fitted to any data: W′ = 10 (the paper, and nupic's `averagingWindow=10`),
 * variance floor 0.0003 (nupic `anomaly_likelihood.estimateNormal`). W is one day instead of nupic's
 * 8640 points (30 days at 5 min) so that the history a served score needs stays about one day longer.
 */
export const PUBLISHED_LIKELIHOOD: Readonly<LikelihoodParams> = {
  windowSeconds: 86400,
  shortWindow: 10,
  varianceFloor: 0.0003,
};

/** The published parameters at a step (seconds): W is a time span, W′ a number of points. */
export function likelihoodConfig(step: number, p: LikelihoodParams = PUBLISHED_LIKELIHOOD): LikelihoodConfig {
  if (!(step > 0)) throw new RangeError(`step must be > 0, got ${step}`);
  return {
    window: Math.max(p.shortWindow, 2, Math.round(p.windowSeconds / step)),
    shortWindow: p.shortWindow,
    varianceFloor: p.varianceFloor,
  };
}

export function validateLikelihoodConfig(cfg: LikelihoodConfig): void {
  if (!(Number.isInteger(cfg.window) && cfg.window >= 2))
    throw new RangeError('likelihood window must be an integer ≥ 2');
  if (!(Number.isInteger(cfg.shortWindow) && cfg.shortWindow >= 1 && cfg.shortWindow <= cfg.window))
    throw new RangeError('likelihood shortWindow must be an integer in [1, window]');
  if (!(Number.isFinite(cfg.varianceFloor) && cfg.varianceFloor > 0))
    throw new RangeError('likelihood varianceFloor must be a finite number > 0');
}

/**
 * erfc(x) by the Chebyshev fit of Press et al., Numerical Recipes (2nd ed., §6.2, `erfcc`): fractional
 * error below 1.2e-7 everywhere, which keeps the far tail (1 − L ≈ 1e-10) meaningful for the log scale.
 */
export function erfc(x: number): number {
  const z = Math.abs(x);
  const t = 1 / (1 + 0.5 * z);
  const poly =
    -1.26551223 +
    t *
      (1.00002368 +
        t *
          (0.37409196 +
            t *
              (0.09678418 +
                t *
                  (-0.18628806 +
                    t *
                      (0.27886807 +
                        t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277))))))));
  const r = t * Math.exp(-z * z + poly);
  return x >= 0 ? r : 2 - r;
}

/** Q(z) = P(N(0,1) > z), the Gaussian tail. */
export function gaussianTail(z: number): number {
  return 0.5 * erfc(z / Math.SQRT2);
}

/**
 * L_t = 1 − Q((μ̃_t − μ_t) / σ_t) per point: μ_t, σ_t the mean and sample standard deviation of the last
 * W raw scores, μ̃_t the mean of the last W′. NaN where any of the last W scores is NaN (not scored yet).
 */
export function anomalyLikelihood(scores: ArrayLike<number>, cfg: LikelihoodConfig): Float64Array {
  validateLikelihoodConfig(cfg);
  const n = scores.length;
  const W = cfg.window;
  const S = cfg.shortWindow;
  // Prefix sums of the scores, their squares and the count of missing ones make every window O(1) and
  // leave earlier outputs untouched when points are appended.
  const p1 = new Float64Array(n + 1);
  const p2 = new Float64Array(n + 1);
  const missing = new Int32Array(n + 1);
  for (let i = 0; i < n; i++) {
    const x = scores[i];
    if (x !== x) {
      p1[i + 1] = p1[i];
      p2[i + 1] = p2[i];
      missing[i + 1] = missing[i] + 1;
      continue;
    }
    if (!Number.isFinite(x)) throw new RangeError(`raw score at index ${i} is ${x}`);
    p1[i + 1] = p1[i] + x;
    p2[i + 1] = p2[i] + x * x;
    missing[i + 1] = missing[i];
  }
  const out = new Float64Array(n).fill(NaN);
  for (let i = W - 1; i < n; i++) {
    if (missing[i + 1] !== missing[i + 1 - W]) continue;
    const s1 = p1[i + 1] - p1[i + 1 - W];
    const mean = s1 / W;
    const variance = Math.max((p2[i + 1] - p2[i + 1 - W] - s1 * mean) / (W - 1), cfg.varianceFloor);
    const recent = (p1[i + 1] - p1[i + 1 - S]) / S;
    out[i] = 1 - gaussianTail((recent - mean) / Math.sqrt(variance));
  }
  return out;
}

/**
 * The log scale NAB's numenta detector reports: log(1.0000000001 − L) / log(1e-10), in [0, 1]; L = 0.5 maps
 * to 0.030, the paper's alarm level L = 1 − 1e-5 to 0.5. NaN stays NaN.
 */
export function logLikelihood(likelihood: number): number {
  if (likelihood !== likelihood) return NaN;
  return Math.min(1, Math.max(0, Math.log(1.0000000001 - likelihood) / Math.log(1e-10)));
}

/**
 * The detector's scores with the likelihood in between, the way HTM's NAB detector uses it: the forest's
 * raw scores → L → log scale → the detector's breakout rule (1 beyond the past range, as HTM sets after its
 * likelihood) → its own onset damping. Past-only like scoreValues; NaN where the features or the
 * likelihood window lack history (W − 1 points more than scoreValues needs).
 */
export function likelihoodScores(
  detector: AnomalyDetector,
  values: ArrayLike<number>,
  step: number,
  params: LikelihoodParams = PUBLISHED_LIKELIHOOD
): Float64Array {
  const raw = rawScores(detector, values, step);
  const logScale = anomalyLikelihood(raw, likelihoodConfig(step, params)).map(logLikelihood);
  return servedScores(detector, values, logScale, step);
}
