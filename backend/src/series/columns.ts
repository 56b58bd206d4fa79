/** Conversions between the two shapes of a series: [t, v] points and parallel typed arrays. */
import type { ColumnSeries, Point, Series } from './types';

export function toColumns(s: Series): ColumnSeries {
  const times = new Float64Array(s.points.length);
  const values = new Float64Array(s.points.length);
  for (let i = 0; i < s.points.length; i++) {
    times[i] = s.points[i][0];
    values[i] = s.points[i][1];
  }
  return { labels: s.labels, times, values };
}

export function toPoints(s: ColumnSeries): Series {
  const points = new Array<Point>(s.times.length);
  for (let i = 0; i < points.length; i++) points[i] = [s.times[i], s.values[i]];
  return { labels: s.labels, points };
}

/** The first index whose time is ≥ t (times sorted ascending); `times.length` when there is none. */
export function firstIndexAtOrAfter(times: ArrayLike<number>, t: number): number {
  let lo = 0;
  let hi = times.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (times[mid] < t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * Bytes that keeping these series keeps alive: every buffer they view (a view keeps its whole buffer,
 * the sample text its whole answer), each counted once, and ~200 per series for labels and objects.
 */
export function bytesHeld(series: readonly ColumnSeries[]): number {
  const buffers = new Set<ArrayBufferLike>();
  let bytes = 0;
  for (const s of series) {
    bytes += 200; // labels and object overhead, roughly
    const arrays: ArrayBufferView[] = [s.times, s.values];
    if (s.text) arrays.push(s.text.bytes, s.text.timeAt, s.text.timeLen, s.text.valueAt, s.text.valueLen);
    for (const a of arrays) {
      if (buffers.has(a.buffer)) continue;
      buffers.add(a.buffer);
      bytes += a.buffer.byteLength;
    }
  }
  return bytes;
}

/** Two samples equal as an answer shows them: NaN equals NaN, 0 is not −0. */
export function sameSample(a: number, b: number): boolean {
  return a === b ? a !== 0 || 1 / a === 1 / b : a !== a && b !== b;
}

/** `a` and `b` hold the same doubles bit for bit: the same view, or the same bytes (memcmp, ~10× a loop). */
export function sameBits(a: Float64Array, b: Float64Array): boolean {
  if (a.length !== b.length) return false;
  if (a.buffer === b.buffer && a.byteOffset === b.byteOffset) return true;
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(
    Buffer.from(b.buffer, b.byteOffset, b.byteLength)
  );
}
