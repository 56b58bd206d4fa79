/** Error metrics of docs/definitions.md on plain arrays; each is small enough to check by hand. */

function checkPair(actual: ArrayLike<number>, forecast: ArrayLike<number>): void {
  if (actual.length !== forecast.length) {
    throw new RangeError(`actual and forecast differ in length: ${actual.length} vs ${forecast.length}`);
  }
  if (actual.length === 0) throw new RangeError('no values to score');
}

export function rmse(actual: ArrayLike<number>, forecast: ArrayLike<number>): number {
  checkPair(actual, forecast);
  let sq = 0;
  for (let i = 0; i < actual.length; i++) sq += (forecast[i] - actual[i]) ** 2;
  return Math.sqrt(sq / actual.length);
}

export function mae(actual: ArrayLike<number>, forecast: ArrayLike<number>): number {
  checkPair(actual, forecast);
  let abs = 0;
  for (let i = 0; i < actual.length; i++) abs += Math.abs(forecast[i] - actual[i]);
  return abs / actual.length;
}

/** Σ|error| / Σ|actual|; NaN when every actual is 0 (the ratio means nothing then). */
export function wape(actual: ArrayLike<number>, forecast: ArrayLike<number>): number {
  checkPair(actual, forecast);
  let err = 0;
  let tot = 0;
  for (let i = 0; i < actual.length; i++) {
    err += Math.abs(forecast[i] - actual[i]);
    tot += Math.abs(actual[i]);
  }
  return tot > 0 ? err / tot : NaN;
}

/** 1 − WAPE, the figure docs/definitions.md calls accuracy. */
export function accuracy(actual: ArrayLike<number>, forecast: ArrayLike<number>): number {
  return 1 - wape(actual, forecast);
}

/** Median (mean of the two middle values for an even count); NaN for no values. */
export function median(values: ArrayLike<number>): number {
  const sorted = Array.from(values).sort((a, b) => a - b);
  const n = sorted.length;
  if (n === 0) return NaN;
  const mid = n >> 1;
  return n % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** Fraction of actuals inside [lower, upper] (ends included). */
export function coverage(
  actual: ArrayLike<number>,
  lower: ArrayLike<number>,
  upper: ArrayLike<number>
): number {
  checkPair(actual, lower);
  checkPair(actual, upper);
  let inside = 0;
  for (let i = 0; i < actual.length; i++) if (actual[i] >= lower[i] && actual[i] <= upper[i]) inside++;
  return inside / actual.length;
}
