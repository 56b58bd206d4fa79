/**
 * Keeps the older part of range-query answers, so a dashboard refresh reads only what is new.
 *
 * `/api/forecast` reads the range shown plus the days of history the model's seasonal inputs need, and a
 * dashboard asks again every minute or so for nearly the same range. Almost all of that answer is history
 * that has not changed since the last refresh. As the results caches in front of Mimir and Thanos do, the
 * cache answers the part it has read before and asks the upstream only for the steps after it:
 * - Answers are kept per (query, step, grid phase): Prometheus evaluates at `start + k·step`, so only a
 *   request on the same grid can reuse them (the Grafana data source aligns its ranges to the step).
 * - Evaluations within `maxFreshness` of now are never kept: late scrapes, remote-write lag and rule
 *   evaluation still change them. The default, 10 min, is Mimir's `max-cache-freshness`.
 * - An entry is read again in full once it is `maxAge` old, so a backfill or a deletion in the older data
 *   shows within that time.
 * - At most `maxBytes` are kept, least recently used dropped first.
 * - Queries whose values depend on the range asked (`@ start()`, `@ end()`) pass straight through.
 *
 * Without a hit the answer is exactly the upstream's; with one it is the cached evaluations then the
 * upstream's from the next step on, which is the same answer as long as the kept evaluations have not
 * changed upstream (test/history-cache.test.ts checks this against a real Prometheus).
 */
import { ByteLru } from '../lru';
import { bytesHeld, firstIndexAtOrAfter, sameSample, toPoints } from '../series/columns';
import { compareLabels, labelsKey } from '../series/labels';
import type { ColumnSeries, Series } from '../series/types';
import { tooManySeries } from './prometheus';
import { queryColumns, type QueryOptions, type RangeQuery, type SeriesSource } from './types';

export interface HistoryCacheOptions {
  /** Seconds before now within which evaluations are always read again. Default 600. */
  maxFreshness?: number;
  /** Seconds after a full read when an entry is read in full again. Default 3600. */
  maxAge?: number;
  /** Largest total size kept. Default 256 MiB. */
  maxBytes?: number;
  /**
   * The upstream's series limit. An answer put together from the cache is held to it too: series that
   * stopped plus series that started can exceed it where no single read did, and a direct read would refuse.
   */
  maxSeries?: number;
  /** Unix seconds now (tests move it). */
  now?: () => number;
  /** Called once per query with how it was answered, e.g. for a counter. */
  onLookup?: (outcome: CacheOutcome) => void;
}

/**
 * `hit`: all from the cache; `partial`: the cache, then the upstream for the newer steps; `miss`: all from
 * the upstream; `bypass`: not cacheable (off-grid times, a range-dependent query).
 */
export type CacheOutcome = 'hit' | 'partial' | 'miss' | 'bypass';

interface Entry {
  /** Grid times, integer milliseconds: the upstream answered for every step from `startMs` to `endMs`. */
  startMs: number;
  endMs: number;
  /** When the last full read was made (Unix seconds). */
  readAt: number;
  /** Samples at times within [startMs, endMs], in the upstream's order, and their `labelsKey`s. */
  series: ColumnSeries[];
  keys: string[];
  bytes: number;
}

/**
 * Queries whose cached evaluations would go wrong. `@ start()` / `@ end()` (and `range()`, any case, as
 * Prometheus' lexer takes keywords) depend on the range asked for; a negative offset or an `@ <time>`
 * can read samples after the evaluation time, which may not have arrived when the answer was cached.
 */
const UNCACHEABLE = [/@\s*(start|end)\s*\(\s*\)/i, /\brange\s*\(\s*\)/i, /\boffset\s*-/i, /@\s*[-+]?[\d.]/];

/** What an entry costs beyond its samples: the Map slot, the object and its key (UTF-16). */
const ENTRY_BYTES = 200;

export class HistoryCache implements SeriesSource {
  readonly kind: SeriesSource['kind'];
  private readonly entries: ByteLru<Entry>;
  private readonly maxFreshness: number;
  private readonly maxAge: number;
  private readonly maxSeries: number;
  private readonly now: () => number;
  private readonly onLookup?: (outcome: CacheOutcome) => void;

  constructor(
    private readonly inner: SeriesSource,
    opts: HistoryCacheOptions = {}
  ) {
    this.kind = inner.kind;
    this.maxFreshness = opts.maxFreshness ?? 600;
    this.maxAge = opts.maxAge ?? 3600;
    this.entries = new ByteLru(opts.maxBytes ?? 256 * 1024 * 1024);
    this.maxSeries = opts.maxSeries ?? Infinity;
    this.now = opts.now ?? (() => Date.now() / 1000);
    this.onLookup = opts.onLookup;
    if (inner.ping) this.ping = (signal) => inner.ping!(signal);
  }

  ping?: SeriesSource['ping'];

  /** Bytes held now, and how many entries. */
  get size(): { bytes: number; entries: number } {
    return this.entries.size;
  }

  clear(): void {
    this.entries.clear();
  }

  async queryRange(q: RangeQuery, signal?: AbortSignal): Promise<Series[]> {
    return (await this.queryRangeColumns(q, signal)).map(toPoints);
  }

  async queryRangeColumns(q: RangeQuery, signal?: AbortSignal, opts?: QueryOptions): Promise<ColumnSeries[]> {
    const grid = gridOf(q);
    if (!grid || opts?.bypass || UNCACHEABLE.some((re) => re.test(q.query))) {
      this.onLookup?.('bypass');
      return queryColumns(this.inner, q, signal);
    }
    const key = `${grid.stepMs}\u0000${mod(grid.startMs, grid.stepMs)}\u0000${q.query}`;
    const now = this.now();
    let entry = opts?.refresh ? undefined : this.entries.peek(key);
    if (
      entry &&
      (now - entry.readAt > this.maxAge || entry.startMs > grid.startMs || entry.endMs < grid.startMs)
    ) {
      entry = undefined;
    }

    if (!entry) {
      const answer = await queryColumns(this.inner, q, signal);
      this.keep(key, grid, { series: answer, keys: answer.map((s) => labelsKey(s.labels)) }, now, now);
      this.onLookup?.('miss');
      return answer;
    }
    if (grid.lastMs <= entry.endMs) {
      const answer = sliceAll(entry, grid.startMs, grid.lastMs).series;
      this.checkSeries(answer.length);
      this.entries.touch(key);
      this.onLookup?.('hit');
      return answer;
    }
    const fresh = await queryColumns(this.inner, { ...q, start: (entry.endMs + grid.stepMs) / 1000 }, signal);
    // The whole entry is merged and kept, not just from where this request starts: a forecast (8 days
    // back) and an anomaly query (a shorter warm-up) on one expression share it and must not narrow it.
    const merged = merge(entry, fresh);
    this.keep(key, { ...grid, startMs: entry.startMs }, merged, entry.readAt, now);
    const answer = sliceAll(merged, grid.startMs, grid.lastMs).series;
    this.checkSeries(answer.length);
    this.onLookup?.('partial');
    return answer;
  }

  /** Keeps the part of an answer older than `maxFreshness`, unless the entry there already reaches further. */
  private keep(key: string, grid: Grid, answer: Keyed, readAt: number, now: number): void {
    const stableMs = Math.min(grid.lastMs, Math.floor((now - this.maxFreshness) * 1000));
    if (stableMs < grid.startMs) return;
    const endMs = grid.startMs + Math.floor((stableMs - grid.startMs) / grid.stepMs) * grid.stepMs;
    const current = this.entries.peek(key);
    // An entry read later stays, even if it covers less: a request that began before a `no-cache` refresh
    // must not put back what the refresh replaced.
    const covers = current && current.startMs <= grid.startMs && current.endMs >= endMs;
    if (current && (current.readAt > readAt || (current.readAt === readAt && covers))) {
      this.entries.touch(key);
      return;
    }
    const { series, keys } = sliceAll(answer, grid.startMs, endMs);
    const bytes = bytesHeld(series) + ENTRY_BYTES + 2 * key.length;
    // Replaces what was kept; an answer larger than maxBytes alone is not kept (and the old one is gone).
    this.entries.set(key, { startMs: grid.startMs, endMs, readAt, series, keys, bytes });
  }

  private checkSeries(n: number): void {
    if (n > this.maxSeries) throw tooManySeries(n, this.maxSeries);
  }
}

interface Grid {
  startMs: number;
  stepMs: number;
  /** The last evaluation time: start + k·step ≤ end. */
  lastMs: number;
}

/** The query's evaluation grid in whole milliseconds (Prometheus' resolution), or undefined when off it. */
function gridOf(q: RangeQuery): Grid | undefined {
  const startMs = wholeMs(q.start);
  const endMs = wholeMs(q.end);
  const stepMs = wholeMs(q.step);
  if (startMs === undefined || endMs === undefined || stepMs === undefined || !(stepMs > 0)) return undefined;
  if (endMs < startMs) return undefined; // the upstream's error, not ours
  return { startMs, stepMs, lastMs: startMs + Math.floor((endMs - startMs) / stepMs) * stepMs };
}

function wholeMs(seconds: number): number | undefined {
  if (!Number.isFinite(seconds)) return undefined;
  const ms = Math.round(seconds * 1000);
  return Math.abs(ms - seconds * 1000) < 1e-6 && Number.isSafeInteger(ms) ? ms : undefined;
}

function mod(a: number, b: number): number {
  return ((a % b) + b) % b;
}

/** The samples of `s` at times within [fromMs, toMs], as views (nothing copied). */
function slice(s: ColumnSeries, fromMs: number, toMs: number): ColumnSeries {
  const i = firstIndexAtOrAfter(s.times, fromMs / 1000 - 5e-4);
  const j = firstIndexAtOrAfter(s.times, toMs / 1000 + 5e-4);
  if (i === 0 && j === s.times.length) return s;
  const out: ColumnSeries = {
    labels: s.labels,
    times: s.times.subarray(i, j),
    values: s.values.subarray(i, j),
  };
  if (s.text) {
    out.text = {
      bytes: s.text.bytes,
      timeAt: s.text.timeAt.subarray(i, j),
      timeLen: s.text.timeLen.subarray(i, j),
      valueAt: s.text.valueAt.subarray(i, j),
      valueLen: s.text.valueLen.subarray(i, j),
    };
  }
  return out;
}

/** Every series' samples within [fromMs, toMs], leaving out those with none there. */
function sliceAll(from: Keyed, fromMs: number, toMs: number): Keyed {
  const series: ColumnSeries[] = [];
  const keys: string[] = [];
  from.series.forEach((s, i) => {
    const kept = slice(s, fromMs, toMs);
    if (kept.times.length === 0) return;
    series.push(kept);
    keys.push(from.keys[i]);
  });
  return { series, keys };
}

/**
 * Columns with room to grow, one region per series, laid out back to back in one array per column: what
 * merged series are views of. A later merge appends a series' newer samples in its region instead of
 * copying its days of history again, when no answer handed out so far has different samples there.
 */
interface Group {
  times: Float64Array;
  values: Float64Array;
  text?: { timeAt: Uint32Array; timeLen: Uint8Array; valueAt: Uint32Array; valueLen: Uint8Array };
  /** Per region, ascending: where it starts and where its room ends (indices into the columns). */
  start: Uint32Array;
  end: Uint32Array;
  /**
   * Per region, how far samples have been written, all of them part of some answer handed out. Views end
   * at or before it; nothing below it is ever written again except with equal samples.
   */
  claimed: Uint32Array;
}

/** The group a merged series' `times` is a view of, by that array's buffer. */
const groups = new WeakMap<ArrayBufferLike, Group>();

/** Room a region leaves for later steps, beyond the samples it is made for. */
const room = (n: number) => Math.max(16, Math.ceil(n / 8));

/**
 * The entry's samples, then the upstream's newer ones, series matched by labels. A series only the
 * cache has keeps its older samples (it stopped); one only the upstream has is new. The order is
 * Prometheus' (by labels) when a new series joins.
 *
 * A refresh of a 1000-series dashboard merges 1000 series of 9 days each, and a copy of them all (30 MB
 * and its garbage) took longer than forecasting them. So a series already merged once gets its newer
 * samples appended in its group's region (`appendInPlace`); the rest are copied into a new group with
 * room, one array per column for all of them (allocating six arrays per series was slower still).
 */
function merge(entry: Entry, fresh: ColumnSeries[]): Keyed {
  const byKey = new Map<string, ColumnSeries>();
  for (const s of fresh) byKey.set(labelsKey(s.labels), s);
  const out: ColumnSeries[] = [];
  const keys: string[] = [];
  /** Series to copy: their index in `out`, and the two parts. */
  const copies: Array<{ i: number; older: ColumnSeries; newer: ColumnSeries }> = [];
  entry.series.forEach((older, k) => {
    const newer = byKey.get(entry.keys[k]);
    if (newer) byKey.delete(entry.keys[k]);
    if (older.times.length === 0 && !newer) return;
    keys.push(entry.keys[k]);
    if (!newer || older.times.length === 0) {
      out.push(newer ?? older);
      return;
    }
    const appended = appendInPlace(older, newer);
    if (!appended) copies.push({ i: out.length, older, newer });
    out.push(appended ?? older);
  });
  if (copies.length) copyIntoGroup(copies, out);
  if (byKey.size === 0) return { series: out, keys };
  const all = out.map((series, i) => ({ series, key: keys[i] }));
  for (const [key, series] of byKey) all.push({ series, key });
  all.sort((a, b) => compareLabels(a.series.labels, b.series.labels));
  return { series: all.map((a) => a.series), keys: all.map((a) => a.key) };
}

/**
 * `older` then `newer`, written after `older` in its region, or undefined when that cannot be done: `older`
 * is not (all of) a group's view, its region has no room left, or an answer already handed out holds other
 * samples where `newer` would go (a refresh reads the last minutes again; while they are unchanged, the
 * same samples are written over themselves, which no view can tell).
 */
function appendInPlace(older: ColumnSeries, newer: ColumnSeries): ColumnSeries | undefined {
  const g = groups.get(older.times.buffer); // keyed by its times' buffer
  if (!g || g.values.buffer !== older.values.buffer) return undefined;
  const from = (older.times.byteOffset - g.times.byteOffset) / 8;
  if (from !== (older.values.byteOffset - g.values.byteOffset) / 8) return undefined;
  // Its text, if it has any, is the group's at the same place. (One without text may sit in a group with
  // text arrays: its view never shows them.)
  const t = older.text;
  if (t && (!g.text || t.timeAt.buffer !== g.text.timeAt.buffer || t.timeAt.byteOffset !== 4 * from)) {
    return undefined;
  }
  const r = regionAt(g, from);
  const at = from + older.times.length; // where `newer` goes
  const n = newer.times.length;
  if (r < 0 || at > g.claimed[r] || at + n > g.end[r]) return undefined;
  const written = Math.min(g.claimed[r], at + n);
  for (let i = at; i < written; i++) {
    if (!sameSample(g.times[i], newer.times[i - at]) || !sameSample(g.values[i], newer.values[i - at]))
      return undefined;
    if (g.text && (g.text.timeLen[i] !== 0 || g.text.valueLen[i] !== 0)) return undefined;
  }
  for (let i = written; i < at + n; i++) {
    g.times[i] = newer.times[i - at];
    g.values[i] = newer.values[i - at];
    if (g.text) g.text.timeLen[i] = g.text.valueLen[i] = 0; // to be formatted: not in the entry's text
  }
  g.claimed[r] = Math.max(g.claimed[r], at + n);
  return viewOf(g, older, from, at + n);
}

/** Copies each `older` then `newer` into a new group (with room), and puts the views into `out`. */
function copyIntoGroup(
  copies: Array<{ i: number; older: ColumnSeries; newer: ColumnSeries }>,
  out: ColumnSeries[]
): void {
  let total = 0;
  let withText = false;
  for (const { older, newer } of copies) {
    const n = older.times.length + newer.times.length;
    total += n + room(n);
    withText ||= older.text !== undefined;
  }
  const g: Group = {
    times: new Float64Array(total),
    values: new Float64Array(total),
    text: withText
      ? {
          timeAt: new Uint32Array(total),
          timeLen: new Uint8Array(total),
          valueAt: new Uint32Array(total),
          valueLen: new Uint8Array(total),
        }
      : undefined,
    start: new Uint32Array(copies.length),
    end: new Uint32Array(copies.length),
    claimed: new Uint32Array(copies.length),
  };
  groups.set(g.times.buffer, g);
  let at = 0;
  copies.forEach(({ i, older, newer }, r) => {
    const n = older.times.length + newer.times.length;
    g.start[r] = at;
    g.end[r] = at + n + room(n);
    g.claimed[r] = at + n;
    g.times.set(older.times, at);
    g.times.set(newer.times, at + older.times.length);
    g.values.set(older.values, at);
    g.values.set(newer.values, at + older.times.length);
    // The sample text can point into one answer only: the older samples keep theirs, the newer ones (a
    // few steps) are left at length 0, to be formatted.
    if (older.text && g.text) {
      g.text.timeAt.set(older.text.timeAt, at);
      g.text.timeLen.set(older.text.timeLen, at);
      g.text.valueAt.set(older.text.valueAt, at);
      g.text.valueLen.set(older.text.valueLen, at);
    }
    out[i] = viewOf(g, older, at, at + n);
    at = g.end[r];
  });
}

/** The series `like` (its labels, its text's bytes) as views of `g` over [from, to). */
function viewOf(g: Group, like: ColumnSeries, from: number, to: number): ColumnSeries {
  const s: ColumnSeries = {
    labels: like.labels,
    times: g.times.subarray(from, to),
    values: g.values.subarray(from, to),
  };
  if (like.text && g.text) {
    s.text = {
      bytes: like.text.bytes,
      timeAt: g.text.timeAt.subarray(from, to),
      timeLen: g.text.timeLen.subarray(from, to),
      valueAt: g.text.valueAt.subarray(from, to),
      valueLen: g.text.valueLen.subarray(from, to),
    };
  }
  return s;
}

/** The region of `g` holding index `i`, or −1: the last that starts at or before it. */
function regionAt(g: Group, i: number): number {
  const r = firstIndexAtOrAfter(g.start, i + 1) - 1;
  return r >= 0 && i < g.end[r] ? r : -1;
}

/** Series with their `labelsKey`s, parallel. */
interface Keyed {
  series: ColumnSeries[];
  keys: string[];
}
