/**
 * How much higher demand peaks inside a forecast bucket than the bucket's mean: the forecaster predicts
 * 10-minute means, but a pod is short of CPU at the peak, not at the mean. Learned per series from its own
 * recent history (the live loop reads the last day at 60 s, the simulator uses the ticks it has replayed),
 * so a bursty series is sized with more headroom than a smooth one. Pure.
 */

/** Fewer complete buckets than this and the ratio is 1: too little history to learn from. */
export const PEAK_MIN_BUCKETS = 6;
/** A ratio is never taken above this (one empty-then-full bucket must not triple a floor). */
export const PEAK_MAX_RATIO = 3;
/** The quantile of the per-bucket ratios used: a high one, since a violation costs more than a replica. */
export const PEAK_QUANTILE = 0.9;

/**
 * @param values evenly spaced samples, oldest first (NaN for a missing sample)
 * @param perBucket samples in one forecast bucket (600 s at 60 s → 10)
 * @returns the `q` quantile over complete buckets of max / mean (buckets with mean ≤ 0 or a missing
 *   sample left out), within [1, PEAK_MAX_RATIO]; 1 with fewer than PEAK_MIN_BUCKETS usable buckets.
 */
export function peakToMeanRatio(values: ArrayLike<number>, perBucket: number, q = PEAK_QUANTILE): number {
  if (!(Number.isInteger(perBucket) && perBucket >= 1))
    throw new RangeError(`perBucket must be an integer ≥ 1 (got ${perBucket})`);
  if (!(q >= 0 && q <= 1)) throw new RangeError(`q must be in [0, 1] (got ${q})`);
  const ratios: number[] = [];
  // Buckets end at the newest sample, so the latest complete bucket always counts.
  for (let end = values.length; end - perBucket >= 0; end -= perBucket) {
    let sum = 0;
    let max = -Infinity;
    let ok = true;
    for (let i = end - perBucket; i < end; i++) {
      const v = values[i];
      if (!Number.isFinite(v)) {
        ok = false;
        break;
      }
      sum += v;
      if (v > max) max = v;
    }
    const mean = sum / perBucket;
    if (ok && mean > 0) ratios.push(max / mean);
  }
  if (ratios.length < PEAK_MIN_BUCKETS) return 1;
  ratios.sort((a, b) => a - b);
  const pos = q * (ratios.length - 1);
  const lo = Math.floor(pos);
  const hi = Math.min(ratios.length - 1, lo + 1);
  const r = ratios[lo] + (ratios[hi] - ratios[lo]) * (pos - lo);
  return Math.min(PEAK_MAX_RATIO, Math.max(1, r));
}
