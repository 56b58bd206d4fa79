/**
 * Reads the queries of many targets with few range queries, where that gives each target exactly the
 * series its own query gives (the evaluation loop reads 1000 targets a round).
 *
 * Only plain selectors with `=` matchers are merged: `m{ns="a",pod="x"}` and `m{ns="a",pod="y"}` become
 * `m{ns="a",pod=~"x|y"}`. That is provably the same answer, split by `pod`: a selector's range query
 * evaluates every series on its own (lookback and staleness per series), and the union selector selects
 * exactly the union of the series each equality selects (the regex is fully anchored and lists the values
 * as literals). Nothing with an aggregation, a function or a range is merged: `sum by (pod)` over
 * `pod=~"x|y"` is the sum each `sum(…{pod="x"})` gives only when no series lacks or repeats the label in
 * ways a sum hides, which the query alone cannot show. Identical queries are read once.
 */
import type { ColumnSeries } from '../series/types';

/** A label value merged into a regex: literal characters only (no escapes, quotes or regex syntax beyond `.`). */
const SAFE_VALUE = /^[A-Za-z0-9_:/ .-]+$/;
const LABEL = /^[A-Za-z_][A-Za-z0-9_]*$/;
const METRIC = /^[A-Za-z_:][A-Za-z0-9_:]*$/;

export interface PlainSelector {
  metric?: string;
  /** `=` matchers only, in the order written. */
  matchers: Array<[name: string, value: string]>;
}

/**
 * `metric{a="x",b='y'}`, `metric` or `{a="x"}` with `=` matchers only and values without escapes; else
 * undefined (anything else is read as written).
 */
export function parsePlainSelector(query: string): PlainSelector | undefined {
  const m = /^\s*([A-Za-z_:][A-Za-z0-9_:]*)?\s*(?:\{(.*)\})?\s*$/s.exec(query);
  if (!m || (m[1] === undefined && m[2] === undefined)) return undefined;
  const metric = m[1];
  // `offset`, `bool` and the like would have left text after the braces and failed the match above; a bare
  // name that is a keyword is still a selector of that metric name in PromQL only where not a keyword.
  if (metric && /^(sum|min|max|avg|count|by|without|offset|bool|and|or|unless|on|ignoring)$/i.test(metric))
    return undefined;
  const matchers: Array<[string, string]> = [];
  const body = (m[2] ?? '').trim();
  if (body !== '') {
    const re = /\s*([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(?:"([^"\\\n]*)"|'([^'\\\n]*)')\s*(,|$)/gy;
    let at = 0;
    while (at < body.length) {
      re.lastIndex = at;
      const mm = re.exec(body);
      if (!mm) return undefined;
      matchers.push([mm[1], mm[2] ?? mm[3]]);
      at = re.lastIndex;
      if (mm[4] === '' && at < body.length) return undefined;
    }
  }
  const names = new Set(matchers.map(([n]) => n));
  if (names.size !== matchers.length) return undefined;
  if (metric === undefined && matchers.every(([, v]) => v === '')) return undefined;
  return { metric, matchers };
}

/** One read of a round: either a query as written, or a merged selector split by `label`. */
export interface ReadGroup {
  query: string;
  /** Indexes (into the queries given) this read answers. */
  members: number[];
  /** Set for a merged read: each member gets the series whose `label` is its `values[k]`. */
  label?: string;
  values?: string[];
}

/** Renders a selector with `label` matching any of `values` (regex-quoted). */
function unionSelector(sel: PlainSelector, label: string, values: string[]): string {
  const parts = sel.matchers.filter(([n]) => n !== label).map(([n, v]) => `${n}=${JSON.stringify(v)}`);
  // In a PromQL string `\\.` is the regex `\.`: a literal dot.
  const alternatives = values.map((v) => v.replace(/\./g, '\\\\.')).join('|');
  parts.push(`${label}=~"${alternatives}"`);
  return `${sel.metric ?? ''}{${parts.join(',')}}`;
}

/**
 * The reads that answer `queries`: identical queries once, plain selectors that differ only in one label's
 * value merged (at most `maxValues` values per read), everything else as written. Every index appears in
 * exactly one group.
 */
export function groupQueries(queries: readonly string[], maxValues: number): ReadGroup[] {
  const groups: ReadGroup[] = [];
  // Identical queries first: one read each.
  const byText = new Map<string, number[]>();
  queries.forEach((q, i) => {
    const same = byText.get(q);
    if (same) same.push(i);
    else byText.set(q, [i]);
  });
  const distinct = [...byText.keys()];
  const parsed = distinct.map(parsePlainSelector);
  // Candidate merges: the selector without one of its matchers (whose value is safe to quote).
  const byShape = new Map<string, number[]>();
  const shapeOf = (d: number, label: string) => {
    const sel = parsed[d]!;
    const rest = sel.matchers
      .filter(([n]) => n !== label)
      .map(([n, v]) => `${n}=${JSON.stringify(v)}`)
      .sort();
    return `${sel.metric ?? ''}\u0000${label}\u0000${rest.join(',')}`;
  };
  parsed.forEach((sel, d) => {
    if (!sel) return;
    for (const [label, value] of sel.matchers) {
      if (label === '__name__' || !LABEL.test(label) || !SAFE_VALUE.test(value)) continue;
      if (sel.metric !== undefined && !METRIC.test(sel.metric)) continue;
      const key = shapeOf(d, label);
      const list = byShape.get(key);
      if (list) list.push(d);
      else byShape.set(key, [d]);
    }
  });
  const taken = new Set<number>();
  // Largest shapes first; a query joins one merged read at most.
  const shapes = [...byShape.entries()].sort((a, b) => b[1].length - a[1].length);
  for (const [key, ds] of shapes) {
    const free = ds.filter((d) => !taken.has(d));
    if (free.length < 2) continue;
    const label = key.split('\u0000')[1];
    for (let from = 0; from < free.length; from += Math.max(1, maxValues)) {
      const chunk = free.slice(from, from + Math.max(1, maxValues));
      if (chunk.length < 2) break; // a lone leftover is read as written below
      chunk.forEach((d) => taken.add(d));
      const values = chunk.map((d) => parsed[d]!.matchers.find(([n]) => n === label)![1]);
      const members: number[] = [];
      const memberValues: string[] = [];
      chunk.forEach((d, k) => {
        for (const i of byText.get(distinct[d])!) {
          members.push(i);
          memberValues.push(values[k]);
        }
      });
      groups.push({
        query: unionSelector(parsed[chunk[0]]!, label, values),
        members,
        label,
        values: memberValues,
      });
    }
  }
  distinct.forEach((q, d) => {
    if (!taken.has(d)) groups.push({ query: q, members: byText.get(q)! });
  });
  return groups;
}

/** A merged read's answer split among its members (`answers[k]` for `group.members[k]`). */
export function splitAnswer(group: ReadGroup, series: readonly ColumnSeries[]): ColumnSeries[][] {
  if (!group.label) return group.members.map(() => series.slice());
  const byValue = new Map<string, ColumnSeries[]>();
  for (const s of series) {
    const v = s.labels[group.label];
    if (v === undefined) continue;
    const list = byValue.get(v);
    if (list) list.push(s);
    else byValue.set(v, [s]);
  }
  return group.values!.map((v) => byValue.get(v) ?? []);
}

/**
 * `run` over every item, at most `limit` at a time; unlike split.ts' inBatches, one failure stops nothing
 * (each item's own outcome is kept).
 */
export async function settleEach<T, R>(
  items: readonly T[],
  limit: number,
  run: (item: T, index: number) => Promise<R>
): Promise<Array<{ ok: true; value: R } | { ok: false; error: unknown }>> {
  const out: Array<{ ok: true; value: R } | { ok: false; error: unknown }> = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      try {
        out[i] = { ok: true, value: await run(items[i], i) };
      } catch (error) {
        out[i] = { ok: false, error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(Math.max(1, limit), items.length) }, worker));
  return out;
}
