/**
 * A long range query read as consecutive pieces, several at once, then put back together: what the query
 * frontends of Mimir and Thanos do (`split_queries_by_interval`, 24 h by default).
 *
 * `/api/forecast` reads the range shown plus the model's 8 days of history. Prometheus answers that in one
 * query in ~0.8–1 s for 1000 series here, and in ~0.35 s as nine one-day queries four at a time (and still
 * faster than one query when it runs them one after another): a long query costs it more than its pieces.
 *
 * A range query evaluates every step on its own, so pieces that start on the query's grid evaluate exactly
 * the instants the whole query would, and their answers, joined series by series, are its answer. The
 * exceptions are `@ start()`, `@ end()` and `range()`, whose value depends on the range asked: such a
 * query is read whole.
 */
import { compareLabels, labelsKey } from '../series/labels';
import type { ColumnSeries, Labels, SampleText } from '../series/types';
import type { RangeQuery } from './types';

/** Queries whose value depends on the range asked (as the history cache lists them). */
/** Fewest steps a piece may hold. */
const MIN_STEPS = 16;

const RANGE_DEPENDENT = [/@\s*(start|end)\s*\(\s*\)/i, /\brange\s*\(\s*\)/i];

/**
 * `q` as consecutive ranges of at most `interval` seconds (each a whole number of steps) on the same grid,
 * or `[q]` when it is no longer, `interval` is 0, its times are not whole milliseconds, or its value depends
 * on the range.
 */
export function splitRange(q: RangeQuery, interval: number): RangeQuery[] {
  if (!(interval > 0) || RANGE_DEPENDENT.some((re) => re.test(q.query))) return [q];
  const startMs = Math.round(q.start * 1000);
  const stepMs = Math.round(q.step * 1000);
  const endMs = Math.round(q.end * 1000);
  // Off the millisecond grid Prometheus rounds times, and the pieces might not meet exactly.
  if (startMs / 1000 !== q.start || stepMs / 1000 !== q.step || !(stepMs > 0) || endMs < startMs) return [q];
  const steps = Math.floor((endMs - startMs) / stepMs) + 1;
  // Pieces of a few steps each would only multiply requests (a day at a 12-hour step is two): a
  // piece holds at least MIN_STEPS, or the range is read whole.
  const most = Math.floor((interval * 1000) / stepMs);
  if (most < MIN_STEPS || steps <= most) return [q];
  // As few pieces as `interval` allows, of even sizes (not full ones and a last one of a few steps).
  const perPiece = Math.ceil(steps / Math.ceil(steps / most));
  const pieces: RangeQuery[] = [];
  for (let first = 0; first < steps; first += perPiece) {
    const last = Math.min(steps - 1, first + perPiece - 1);
    pieces.push({
      ...q,
      start: (startMs + first * stepMs) / 1000,
      end: last === steps - 1 ? q.end : (startMs + last * stepMs) / 1000,
    });
  }
  return pieces;
}

/**
 * The answers to consecutive pieces of one range as the answer to the whole: each series' samples from
 * every piece it appears in, in time order, the series in Prometheus' order (by labels). Where every part
 * of a series kept its sample text, the joined series keeps it too, pointing into the pieces' bytes laid
 * end to end (one copy, so an answer still copies its samples out as they were written).
 */
export function joinPieces(answers: readonly ColumnSeries[][]): ColumnSeries[] {
  if (answers.length === 1) return answers[0];
  const joined = seriesAcross(answers);
  const bytesOf: Uint8Array[] = [];
  for (const answer of answers) {
    for (const s of answer) {
      if (s.text && bytesOf[bytesOf.length - 1] !== s.text.bytes && !bytesOf.includes(s.text.bytes)) {
        bytesOf.push(s.text.bytes);
      }
    }
  }

  // The pieces' bytes end to end, and where each one starts.
  const base = new Map<Uint8Array, number>();
  let size = 0;
  for (const b of bytesOf) {
    base.set(b, size);
    size += b.length;
  }
  const bytes = Buffer.allocUnsafe(size); // every byte is written below
  for (const b of bytesOf) bytes.set(b, base.get(b)!);

  let total = 0;
  for (const parts of joined) for (const p of parts) total += p.times.length;
  // Not zeroed first (30 MB and more for 1000 series of 9 days): every element a view shows is written.
  const times = new Float64Array(unzeroed(8 * total));
  const values = new Float64Array(unzeroed(8 * total));
  const timeAt = new Uint32Array(unzeroed(4 * total));
  const timeLen = new Uint8Array(unzeroed(total));
  const valueAt = new Uint32Array(unzeroed(4 * total));
  const valueLen = new Uint8Array(unzeroed(total));
  /** A part's sample text, its positions moved by `shift` (where its bytes start), written at `at`. */
  const shiftInto = (text: SampleText, shift: number, at: number) => {
    const tAt = text.timeAt;
    const vAt = text.valueAt;
    for (let i = 0, n = tAt.length; i < n; i++) {
      timeAt[at + i] = tAt[i] + shift;
      valueAt[at + i] = vAt[i] + shift;
    }
    timeLen.set(text.timeLen, at);
    valueLen.set(text.valueLen, at);
  };
  let at = 0;
  return joined.map((parts) => {
    const from = at;
    const withText = parts.every((p) => p.text);
    for (const p of parts) {
      times.set(p.times, at);
      values.set(p.values, at);
      if (withText && p.text) shiftInto(p.text, base.get(p.text.bytes)!, at);
      at += p.times.length;
    }
    const s: ColumnSeries = {
      labels: parts[0].labels,
      times: times.subarray(from, at),
      values: values.subarray(from, at),
    };
    if (withText) {
      s.text = {
        bytes,
        timeAt: timeAt.subarray(from, at),
        timeLen: timeLen.subarray(from, at),
        valueAt: valueAt.subarray(from, at),
        valueLen: valueLen.subarray(from, at),
      };
    }
    return s;
  });
}

/**
 * Each series' parts, one per piece it appears in, the series in Prometheus' order. Usually every piece
 * holds the same series in the same order (each answer comes sorted by labels): then they are matched by
 * position, checked label by label. Otherwise (series that start or stop within the range) by their labels.
 */
function seriesAcross(answers: readonly ColumnSeries[][]): ColumnSeries[][] {
  const first = answers[0];
  const aligned = answers.every(
    (a) => a.length === first.length && a.every((s, j) => sameLabels(s.labels, first[j].labels))
  );
  if (aligned) return first.map((_, j) => answers.map((a) => a[j]));
  const byKey = new Map<string, ColumnSeries[]>();
  for (const answer of answers) {
    for (const s of answer) {
      const key = labelsKey(s.labels);
      const parts = byKey.get(key);
      if (parts) parts.push(s);
      else byKey.set(key, [s]);
    }
  }
  return [...byKey.values()].sort((a, b) => compareLabels(a[0].labels, b[0].labels));
}

function sameLabels(a: Labels, b: Labels): boolean {
  let n = 0;
  for (const k in a) {
    if (a[k] !== b[k]) return false;
    n++;
  }
  for (const _ in b) n--;
  return n === 0;
}

/** An ArrayBuffer of `bytes` whose contents are not cleared (Buffer.allocUnsafe's, not from its pool). */
function unzeroed(bytes: number): ArrayBuffer {
  const b = Buffer.allocUnsafeSlow(bytes);
  return b.buffer.byteLength === bytes ? b.buffer : new ArrayBuffer(bytes);
}

/**
 * `run` over every item (the pieces of a range), at most `parallel` at a time, answers in the items'
 * order. On the first failure `ctrl` (if given) is aborted so the running ones stop, nothing more starts,
 * and that failure is thrown once the running ones have ended.
 */
export async function inBatches<T, R>(
  items: readonly T[],
  parallel: number,
  ctrl: AbortController | undefined,
  run: (item: T) => Promise<R>
): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  let failure: { error: unknown } | undefined;
  const worker = async () => {
    while (!failure && next < items.length) {
      const i = next++;
      try {
        out[i] = await run(items[i]);
      } catch (error) {
        if (!failure) {
          failure = { error };
          // An abort of their own, so the others end (and are counted) as aborted, not as this failure.
          ctrl?.abort(new DOMException('another piece of the range failed', 'AbortError'));
        }
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(parallel, items.length) }, worker));
  if (failure) throw failure.error;
  return out;
}
