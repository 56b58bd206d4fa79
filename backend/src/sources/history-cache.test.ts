import { PrescalerError } from '../errors';
import { toColumns } from '../series/columns';
import type { ColumnSeries, Labels, Series } from '../series/types';
import { HistoryCache, type CacheOutcome } from './history-cache';
import { tooManySeries } from './prometheus';
import type { RangeQuery, SeriesSource } from './types';

const T0 = 1_700_000_000; // a multiple of 600
const STEP = 60;

interface FakeSeries {
  labels: Labels;
  /** The value evaluated at t, or undefined where the series has none. */
  at: (t: number) => number | undefined;
}

/** Answers range queries on Prometheus' grid from functions of time, and records what it was asked. */
class GridSource implements SeriesSource {
  readonly kind = 'prometheus' as const;
  calls: RangeQuery[] = [];
  failNext?: PrescalerError;
  /** The next calls wait for these, one each, before they answer (they read the series when they do). */
  holds: Array<Promise<void>> = [];
  maxSeries = Infinity;
  constructor(public series: FakeSeries[]) {}

  async queryRange(q: RangeQuery): Promise<Series[]> {
    this.calls.push(q);
    if (this.failNext) {
      const e = this.failNext;
      this.failNext = undefined;
      throw e;
    }
    const hold = this.holds.shift();
    if (hold) await hold;
    const out: Series[] = [];
    for (const s of this.series) {
      const points: Series['points'] = [];
      for (let t = q.start; t <= q.end; t += q.step) {
        const v = s.at(t);
        if (v !== undefined) points.push([t, v]);
      }
      if (points.length) out.push({ labels: s.labels, points });
    }
    if (out.length > this.maxSeries) throw tooManySeries(out.length, this.maxSeries);
    return out;
  }
}

const wave = (k: number) => (t: number) => Math.round(1000 * (k + Math.sin(t / 977))) / 1000;

function setup(series: FakeSeries[], opts: { maxBytes?: number; maxAge?: number; maxSeries?: number } = {}) {
  const inner = new GridSource(series);
  inner.maxSeries = opts.maxSeries ?? Infinity;
  const clock = { now: T0 };
  const outcomes: CacheOutcome[] = [];
  const cache = new HistoryCache(inner, {
    maxFreshness: 600,
    maxAge: opts.maxAge ?? 3600,
    maxBytes: opts.maxBytes,
    maxSeries: opts.maxSeries,
    now: () => clock.now,
    onLookup: (o) => outcomes.push(o),
  });
  /** What the cache answers and what the upstream alone answers, for the same query. */
  const both = async (q: RangeQuery) => {
    const cached = await cache.queryRangeColumns(q);
    const calls = inner.calls.length;
    const direct = (await inner.queryRange(q)).map(toColumns);
    inner.calls.length = calls;
    return { cached, direct };
  };
  return { inner, clock, outcomes, cache, both };
}

const plain = (series: ColumnSeries[]) =>
  series.map((s) => ({ labels: s.labels, times: [...s.times], values: [...s.values] }));

/** A dashboard's query: the last `hours` up to `end`, at STEP. */
const window = (end: number, hours = 6, query = 'cpu'): RangeQuery => ({
  query,
  start: end - hours * 3600,
  end,
  step: STEP,
});

describe('HistoryCache', () => {
  it('reads a refresh only from where its stable history ends, and answers what the upstream would', async () => {
    const { inner, clock, outcomes, both } = setup([
      { labels: { pod: 'a' }, at: wave(1) },
      { labels: { pod: 'b' }, at: wave(2) },
    ]);
    let end = T0;
    clock.now = end + 5;
    let r = await both(window(end));
    expect(plain(r.cached)).toEqual(plain(r.direct));
    expect(inner.calls).toEqual([window(end)]);

    // A minute later the window has moved one step: what was evaluated more than 600 s before the
    // previous "now" is kept, the rest (the last 10 min and the new step) is read again.
    for (let i = 1; i <= 5; i++) {
      end += STEP;
      clock.now = end + 5;
      r = await both(window(end));
      expect(plain(r.cached)).toEqual(plain(r.direct));
      expect(inner.calls[inner.calls.length - 1]).toEqual({ ...window(end), start: end - 600 });
    }
    expect(inner.calls).toHaveLength(6);
    expect(outcomes).toEqual(['miss', 'partial', 'partial', 'partial', 'partial', 'partial']);
  });

  it('answers a range that is all stable history without asking the upstream', async () => {
    const { inner, clock, outcomes, both } = setup([{ labels: { pod: 'a' }, at: wave(1) }]);
    clock.now = T0 + 86400; // a day after the range: nothing in it is fresh
    await both(window(T0, 24));
    const r = await both(window(T0 - 3600, 12)); // inside the kept range
    expect(plain(r.cached)).toEqual(plain(r.direct));
    expect(r.cached[0].times).toHaveLength(12 * 60 + 1);
    expect(inner.calls).toHaveLength(1);
    expect(outcomes).toEqual(['miss', 'hit']);
  });

  it('reads in full a request on another grid, step or query, one that starts earlier, or one asked to refresh', async () => {
    const { inner, clock, outcomes, cache } = setup([{ labels: { pod: 'a' }, at: wave(1) }]);
    clock.now = T0 + 3600;
    const base = window(T0);
    await cache.queryRangeColumns(base);
    await cache.queryRangeColumns({ ...base, start: base.start + 30 }); // another phase of the 60 s grid
    await cache.queryRangeColumns({ ...base, step: 120 });
    await cache.queryRangeColumns({ ...base, query: 'cpu{pod="a"}' });
    await cache.queryRangeColumns({ ...base, start: base.start - STEP }); // history the cache does not have
    await cache.queryRangeColumns(base, undefined, { refresh: true });
    expect(outcomes).toEqual(['miss', 'miss', 'miss', 'miss', 'miss', 'miss']);
    expect(inner.calls).toHaveLength(6);
    // The refresh kept its answer: the same request now comes from the cache.
    await cache.queryRangeColumns(base);
    expect(outcomes[6]).toBe('hit');
  });

  it('reads an entry in full again once it is maxAge old', async () => {
    const { inner, clock, outcomes, cache } = setup([{ labels: { pod: 'a' }, at: wave(1) }], { maxAge: 900 });
    let end = T0;
    for (let i = 0; i < 6; i++, end += 5 * STEP) {
      clock.now = end + 5;
      await cache.queryRangeColumns(window(end));
    }
    // Full reads at 0 s and at 1200 s (the first request after 900 s), partial ones between.
    expect(outcomes).toEqual(['miss', 'partial', 'partial', 'partial', 'miss', 'partial']);
    expect(inner.calls[4]).toEqual(window(T0 + 4 * 5 * STEP));
  });

  it.each([
    'cpu @ end()',
    'cpu @ START ( )', // keywords in any case, as Prometheus' lexer takes them
    'rate(cpu[5m] @ start())',
    'cpu offset -1h', // reads samples after the evaluation time, which may not have arrived yet
    'cpu OFFSET -5m',
    'cpu @ 1700000000', // a fixed time, possibly in the future
  ])('passes %j through, uncached', async (query) => {
    const { inner, clock, outcomes, cache } = setup([{ labels: { pod: 'a' }, at: wave(1) }]);
    clock.now = T0 + 86400;
    await cache.queryRangeColumns(window(T0, 6, query));
    await cache.queryRangeColumns(window(T0, 6, query));
    expect(outcomes).toEqual(['bypass', 'bypass']);
    expect(inner.calls).toHaveLength(2);
    expect(cache.size).toEqual({ bytes: 0, entries: 0 });
  });

  it('neither answers from nor keeps in the cache a request asked to bypass it', async () => {
    const { inner, clock, outcomes, cache } = setup([{ labels: { pod: 'a' }, at: wave(1) }]);
    clock.now = T0 + 86400;
    await cache.queryRangeColumns(window(T0));
    await cache.queryRangeColumns(window(T0), undefined, { bypass: true });
    await cache.queryRangeColumns({ ...window(T0), query: 'other' }, undefined, { bypass: true });
    expect(outcomes).toEqual(['miss', 'bypass', 'bypass']);
    expect(inner.calls).toHaveLength(3);
    expect(cache.size.entries).toBe(1);
  });

  it('passes through times off the millisecond grid, and caches a positive offset', async () => {
    const { inner, clock, outcomes, cache } = setup([{ labels: { pod: 'a' }, at: wave(1) }]);
    clock.now = T0 + 86400;
    const offGrid = { ...window(T0), start: window(T0).start + 0.0004 };
    await cache.queryRangeColumns(offGrid);
    await cache.queryRangeColumns(offGrid);
    await cache.queryRangeColumns(window(T0, 6, 'cpu offset 1h'));
    await cache.queryRangeColumns(window(T0, 6, 'cpu offset 1h'));
    expect(outcomes).toEqual(['bypass', 'bypass', 'miss', 'hit']);
    expect(inner.calls).toHaveLength(3);
  });

  it('keeps one entry for a long and a short read of one expression (a forecast and an anomaly query)', async () => {
    const { inner, clock, outcomes, both } = setup([
      { labels: { pod: 'a' }, at: wave(1) },
      { labels: { pod: 'b' }, at: wave(2) },
    ]);
    let end = T0;
    for (let i = 0; i < 10; i++, end += STEP) {
      clock.now = end + 5;
      for (const hours of [6, 24]) {
        const r = await both(window(end, hours));
        expect(plain(r.cached)).toEqual(plain(r.direct));
        expect(r.cached[0].times[0]).toBe(end - hours * 3600);
      }
    }
    // Two full reads (the short one, then the long one reaching further back); every later read asks only
    // for the last ~10 minutes.
    expect(outcomes.filter((o) => o === 'miss')).toHaveLength(2);
    expect(inner.calls.slice(2).every((c) => c.end - c.start <= 600 + STEP)).toBe(true);
  });

  it('does not let a request that began before a no-cache refresh put back what the refresh replaced', async () => {
    let backfilled = 0;
    const { inner, clock, cache, both } = setup([
      { labels: { pod: 'a' }, at: (t) => wave(1)(t) + backfilled },
    ]);
    clock.now = T0 + 5;
    await cache.queryRangeColumns(window(T0)); // the entry, before the backfill
    backfilled = 10; // history changed upstream; a refresh is asked for to see it

    const release: Array<() => void> = [];
    inner.holds = [0, 1].map(() => new Promise<void>((r) => release.push(r)));
    const called = async (n: number) => {
      while (inner.calls.length < n) await new Promise((r) => setImmediate(r));
    };
    clock.now = T0 + STEP + 5;
    const refresh = cache.queryRangeColumns(window(T0 + STEP), undefined, { refresh: true });
    await called(2);
    clock.now = T0 + 2 * STEP + 5;
    const earlier = cache.queryRangeColumns(window(T0 + 2 * STEP)); // starts from the old entry
    await called(3);
    release[0]();
    await refresh; // the refresh's entry is kept
    release[1]();
    await earlier; // answers from the old entry, but must not keep it over the refresh's

    clock.now = T0 + 2 * STEP + 10;
    const r = await both(window(T0 + 2 * STEP));
    expect(plain(r.cached)).toEqual(plain(r.direct)); // the backfilled history, not the old entry's
  });

  it('counts an empty answer and its key against maxBytes, so many empty queries cannot grow it', async () => {
    const { clock, cache } = setup([], { maxBytes: 10_000 });
    clock.now = T0 + 86400;
    for (let i = 0; i < 500; i++) {
      await cache.queryRangeColumns(window(T0, 6, `nothing{i="${i}", pad="${'x'.repeat(100)}"}`));
    }
    expect(cache.size.bytes).toBeLessThanOrEqual(10_000);
    expect(cache.size.entries).toBeGreaterThan(0);
    expect(cache.size.entries).toBeLessThan(50);
  });

  it("keeps series that stop and adds series that start, in Prometheus' label order", async () => {
    const stopAt = T0 + 20 * STEP;
    const startAt = T0 + 40 * STEP;
    const { inner, clock, both } = setup([
      { labels: { pod: 'b' }, at: wave(2) },
      { labels: { pod: 'd' }, at: (t) => (t < stopAt ? wave(4)(t) : undefined) },
      { labels: { pod: 'a' }, at: (t) => (t >= startAt ? wave(1)(t) : undefined) },
      { labels: { pod: 'c', zone: 'x' }, at: (t) => (t >= startAt ? wave(3)(t) : undefined) },
    ]);
    // The upstream answers in label order, as Prometheus does.
    inner.series.sort((x, y) => (JSON.stringify(x.labels) < JSON.stringify(y.labels) ? -1 : 1));
    let end = T0;
    for (let i = 0; i < 60; i++, end += STEP) {
      clock.now = end + 5;
      const r = await both(window(end, 1));
      expect(plain(r.cached)).toEqual(plain(r.direct));
    }
    // By the end `d` has left the one-hour window entirely and `a`, `c` have joined.
    const r = await both(window(end, 0.5));
    expect(r.cached.map((s) => s.labels.pod)).toEqual(['a', 'b', 'c']);
  });

  it('refuses, as the upstream would, an answer whose stopped and new series together pass maxSeries', async () => {
    const stopAt = T0 + 30 * STEP;
    const startAt = T0 + 40 * STEP;
    const { inner, clock, cache } = setup(
      [
        { labels: { pod: 'old' }, at: (t) => (t < stopAt ? wave(1)(t) : undefined) },
        { labels: { pod: 'new' }, at: (t) => (t >= startAt ? wave(2)(t) : undefined) },
      ],
      { maxSeries: 1 }
    );
    clock.now = T0 + 45 * STEP + 5;
    // Kept up to T0 + 35 steps, after `old` stopped and before `new` started.
    expect(await cache.queryRangeColumns(window(T0 + 39 * STEP, 1))).toHaveLength(1);
    const q = window(T0 + 45 * STEP, 1); // both pods have samples in it; the steps after the entry only `new`
    await expect(inner.queryRange(q)).rejects.toThrow(/2 series, more than the limit of 1/);
    await expect(cache.queryRangeColumns(q)).rejects.toThrow(/2 series, more than the limit of 1/);
    // Once `old` has left the window, the answer is within the limit again.
    clock.now = T0 + 100 * STEP + 5;
    expect(await cache.queryRangeColumns(window(T0 + 100 * STEP, 1))).toHaveLength(1);
  });

  it('leaves its entry as it was when the upstream fails, and passes the error on', async () => {
    const { inner, clock, outcomes, cache, both } = setup([{ labels: { pod: 'a' }, at: wave(1) }]);
    clock.now = T0 + 5;
    await cache.queryRangeColumns(window(T0));
    clock.now = T0 + STEP + 5;
    inner.failNext = new PrescalerError('upstream_timeout', 'Prometheus did not answer');
    await expect(cache.queryRangeColumns(window(T0 + STEP))).rejects.toThrow('did not answer');
    const r = await both(window(T0 + STEP));
    expect(plain(r.cached)).toEqual(plain(r.direct));
    expect(inner.calls.map((c) => c.start)).toEqual([window(T0).start, T0 + STEP - 600, T0 + STEP - 600]);
    expect(outcomes).toEqual(['miss', 'partial']); // answers only: the failed read is not one
  });

  it('holds at most maxBytes, dropping the least recently used entry first', async () => {
    const series = [{ labels: { pod: 'a' }, at: wave(1) }];
    const probe = setup(series);
    probe.clock.now = T0 + 86400;
    await probe.cache.queryRangeColumns(window(T0, 6, 'z')); // a key as long as the ones below
    const one = probe.cache.size.bytes;
    expect(one).toBeGreaterThanOrEqual(2 * 8 * 361); // times and values of 361 samples, at least

    const { clock, outcomes, cache } = setup(series, { maxBytes: Math.floor(2.5 * one) });
    clock.now = T0 + 86400;
    const q = (query: string) => cache.queryRangeColumns(window(T0, 6, query));
    await q('a');
    await q('b');
    await q('a'); // a is now the most recently used
    await q('c'); // over the limit: b goes
    expect(cache.size).toEqual({ bytes: 2 * one, entries: 2 });
    await q('a');
    await q('c');
    await q('b');
    expect(outcomes).toEqual(['miss', 'miss', 'hit', 'miss', 'hit', 'hit', 'miss']);

    // An answer larger than the whole cache is served but not kept.
    const tiny = setup(series, { maxBytes: one - 1 });
    tiny.clock.now = T0 + 86400;
    await tiny.cache.queryRangeColumns(window(T0));
    expect(tiny.cache.size).toEqual({ bytes: 0, entries: 0 });
  });
});

describe('HistoryCache merging a refresh into what it kept', () => {
  /** The values an answer shows, copied out (the arrays themselves are what the test watches). */
  const valuesOf = (series: ColumnSeries[]) => series.map((s) => Array.from(s.values));

  it('appends the newer steps after the history instead of copying it, once the series has room', async () => {
    const { clock, both } = setup([
      { labels: { pod: 'a' }, at: wave(1) },
      { labels: { pod: 'b' }, at: wave(2) },
    ]);
    let end = T0;
    clock.now = end + 5;
    await both(window(end)); // a miss: the upstream's arrays
    const answers: ColumnSeries[][] = [];
    for (let i = 1; i <= 4; i++) {
      end += STEP;
      clock.now = end + 5;
      const r = await both(window(end));
      expect(plain(r.cached)).toEqual(plain(r.direct));
      answers.push(r.cached);
    }
    // The first refresh copied into a group with room; the later ones wrote into it.
    const buffers = answers.map((a) => a[0].values.buffer);
    expect(new Set(buffers.slice(0, 4)).size).toBe(1);
    expect(answers[3][1].values.buffer).toBe(buffers[0]);
  });

  it('never changes an answer already handed out when the last minutes read differently later', async () => {
    let bump = 0;
    const { clock, cache, inner } = setup([{ labels: { pod: 'a' }, at: (t) => wave(1)(t) + bump }]);
    let end = T0;
    clock.now = end + 5;
    await cache.queryRangeColumns(window(end));
    end += STEP;
    clock.now = end + 5;
    const first = await cache.queryRangeColumns(window(end)); // copied into a group
    const firstValues = valuesOf(first);
    // The last 10 minutes are read again at each refresh; now they read differently (late samples).
    bump = 0.5;
    const second = await cache.queryRangeColumns(window(end));
    const direct = (await inner.queryRange(window(end))).map(toColumns);
    expect(valuesOf(first)).toEqual(firstValues); // untouched
    // The refresh shows the new last minutes over the kept history (which still has the old values).
    const n = second[0].values.length;
    expect(Array.from(second[0].values.subarray(n - 10))).toEqual(
      Array.from(direct[0].values.subarray(n - 10))
    );
    expect(Array.from(second[0].values.subarray(0, n - 11))).toEqual(firstValues[0].slice(0, n - 11));

    // Two refreshes from the same kept entry that read different new steps: each gets its own.
    end += STEP;
    clock.now = end + 5;
    bump = 1;
    const third = await cache.queryRangeColumns(window(end));
    const thirdValues = valuesOf(third);
    bump = 2;
    const fourth = await cache.queryRangeColumns(window(end));
    expect(valuesOf(third)).toEqual(thirdValues);
    expect(fourth[0].values[fourth[0].values.length - 1]).toBe(wave(1)(end) + 2);
    expect(third[0].values[third[0].values.length - 1]).toBe(wave(1)(end) + 1);
    expect(valuesOf(second)[0].slice(-1)[0]).toBe(wave(1)(T0 + STEP) + 0.5);
  });

  it('copies again, with the same answer, once a series has used up its room', async () => {
    const { clock, both } = setup([{ labels: { pod: 'a' }, at: wave(1) }]);
    let end = T0;
    clock.now = end + 5;
    await both(window(end, 1)); // 61 samples: room for 16 more
    const buffers = new Set<ArrayBufferLike>();
    for (let i = 1; i <= 40; i++) {
      end += STEP;
      clock.now = end + 5;
      // A window that keeps its start, so the series grows by a step each time.
      const r = await both({ ...window(end, 1), start: T0 - 3600 });
      expect(plain(r.cached)).toEqual(plain(r.direct));
      buffers.add(r.cached[0].values.buffer);
    }
    expect(buffers.size).toBeGreaterThan(1);
    expect(buffers.size).toBeLessThan(10);
  });
});
