/** The bench's HTTP clients: timed requests to the backend and the same range queries to Prometheus. */
import { isDeepStrictEqual } from 'node:util';
import { STEP } from './data';

export interface Timed {
  ms: number;
  ok: boolean;
  status: number;
}

export async function timedPost(url: string, body: string, headers: Record<string, string>): Promise<Timed> {
  const t0 = performance.now();
  try {
    const res = await fetch(url, { method: 'POST', headers, body });
    // The whole body, as a client must read it; parsing is the client's business and not timed.
    await res.arrayBuffer();
    return { ms: performance.now() - t0, ok: res.status === 200, status: res.status };
  } catch {
    return { ms: performance.now() - t0, ok: false, status: 0 };
  }
}

/**
 * A dashboard's forecast request. `cold` reads all history from Prometheus, past the backend's history
 * cache (`Cache-Control: no-cache`); otherwise it is a refresh, answered from the cache but for the last
 * step (see the `historyCache.maxFreshness` the bench configures).
 */
export function forecastRequest(server: string, query: string, start: number, end: number, cold = false) {
  const body = JSON.stringify({ query, start, end, step: STEP });
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (cold) headers['cache-control'] = 'no-cache';
  return () => timedPost(`${server}/api/forecast`, body, headers);
}

/**
 * Refreshes that each find one new step, as a dashboard's refresh after the next 10 minutes have arrived:
 * the range moves forward a step per request, from `runs + 1` steps before [start, end] up to one step
 * before it (the data ends at `end`). The first request reads its history in full and is not counted; each
 * later one reads one step beyond what the history cache kept, and the answer is computed again (the
 * inputs changed). Each is followed by the raw query over the same range, the ratio's divisor.
 */
export async function newStepRefreshes(
  server: string,
  route: '/api/forecast' | '/api/anomalies',
  prom: string,
  query: string,
  start: number,
  end: number,
  runs: number
): Promise<{ api: number[]; raw: number[] }> {
  const headers = { 'content-type': 'application/json' };
  const at = (k: number) => ({ start: start - k * STEP, end: end - k * STEP });
  const ask = (k: number) => {
    const body = JSON.stringify({ query, ...at(k), step: STEP });
    return must(timedPost(server + route, body, headers), `${route} after a new step`);
  };
  await ask(runs + 1);
  const api: number[] = [];
  const raw: number[] = [];
  for (let k = runs; k >= 1; k--) {
    api.push(await ask(k));
    raw.push(await must(rawRequest(prom, query, at(k).start, at(k).end)(), `query_range (new step)`));
  }
  return { api, raw };
}

/**
 * The same range query straight to Prometheus, asked the way the backend asks (uncompressed), or gzipped
 * as most HTTP clients ask by default (for comparison: Prometheus' gzip is most of that time).
 */
export function rawRequest(prom: string, query: string, start: number, end: number, encoding = 'identity') {
  const body = new URLSearchParams({
    query,
    start: String(start),
    end: String(end),
    step: String(STEP),
  }).toString();
  const headers = { 'content-type': 'application/x-www-form-urlencoded', 'accept-encoding': encoding };
  return () => timedPost(`${prom}/api/v1/query_range`, body, headers);
}

/** A refresh measured is only worth it if it answers what a cold read does: checked once per size. */
export async function sameAnswer(server: string, query: string, start: number, end: number): Promise<void> {
  const body = JSON.stringify({ query, start, end, step: STEP });
  const read = async (cold: boolean) => {
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (cold) headers['cache-control'] = 'no-cache';
    const res = await fetch(`${server}/api/forecast`, { method: 'POST', headers, body });
    return res.json() as Promise<unknown>;
  };
  const cold = await read(true);
  const refresh = await read(false);
  if (!isDeepStrictEqual(cold, refresh))
    throw new Error(`/api/forecast from the history cache differs from a full read for ${query}`);
}

export async function must(r: Promise<Timed>, what: string): Promise<number> {
  const t = await r;
  if (!t.ok) throw new Error(`${what} answered ${t.status || 'no response'}`);
  return t.ms;
}
