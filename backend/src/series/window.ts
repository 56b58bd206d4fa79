/**
 * The least and greatest of the `span` values before each index (points i − span … i − 1; NaN at i = 0,
 * which has none), by monotone deques of indices in one pass.
 */
export function trailingRange(
  values: ArrayLike<number>,
  span: number
): { lo: Float64Array; hi: Float64Array } {
  const n = values.length;
  const lo = new Float64Array(n).fill(NaN);
  const hi = new Float64Array(n).fill(NaN);
  const qmax = new Int32Array(n);
  const qmin = new Int32Array(n);
  let h1 = 0;
  let t1 = 0;
  let h2 = 0;
  let t2 = 0;
  for (let i = 0; i < n; i++) {
    // The deques hold points i − span … i − 1 here; qmax's head is their greatest, qmin's their least.
    while (h1 < t1 && qmax[h1] < i - span) h1++;
    while (h2 < t2 && qmin[h2] < i - span) h2++;
    if (h1 < t1) hi[i] = values[qmax[h1]];
    if (h2 < t2) lo[i] = values[qmin[h2]];
    while (h1 < t1 && values[qmax[t1 - 1]] <= values[i]) t1--;
    qmax[t1++] = i;
    while (h2 < t2 && values[qmin[t2 - 1]] >= values[i]) t2--;
    qmin[t2++] = i;
  }
  return { lo, hi };
}
