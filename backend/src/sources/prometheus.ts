/**
 * Range queries over the Prometheus HTTP API. Anything that speaks it works (Thanos, Mimir,
 * VictoriaMetrics): the base URL may carry a path prefix such as `http://mimir/prometheus`.
 */
import { echo, PrescalerError } from '../errors';
import { toPoints } from '../series/columns';
import type { ColumnSeries, Labels, Series } from '../series/types';
import { parseJsonBytes, sampleValueFromText, SamplePairs } from './json-bytes';
import { assertRange, DEFAULT_MAX_POINTS_PER_SERIES, DEFAULT_MAX_SERIES } from './range';
import { inBatches, joinPieces, splitRange } from './split';
import type { RangeQuery, SeriesSource } from './types';

/** How one HTTP attempt ended, named like the error it maps to (for a latency histogram's label). */
export type UpstreamOutcome =
  'ok' | 'bad_query' | 'too_large' | 'upstream_error' | 'upstream_timeout' | 'aborted';

export interface PrometheusSourceOptions {
  /** e.g. `http://prometheus:9090` or `https://mimir.example/prometheus`; user:password@ becomes Basic auth. */
  baseUrl: string;
  /** Sent as `Authorization: Bearer …`. */
  bearerToken?: string;
  /**
   * Sent with every request, e.g. `X-Scope-OrgID` (the tenant of Mimir, Cortex and Loki's multi-tenant
   * mode). Authorization from the URL or `bearerToken` wins over one given here.
   */
  headers?: Record<string, string>;
  /**
   * Thanos Query's `partial_response` parameter on every query: `true` answers with what the reachable
   * stores hold (and a warning), `false` fails the query when one store does not answer. Unset: not sent,
   * the server's default applies (`--query.partial-response`).
   */
  partialResponse?: boolean;
  /** Per HTTP attempt, including reading the body. Default 10 000. */
  timeoutMs?: number;
  /** Extra attempts after a 5xx, a timeout or a connection error (never after a 4xx). Default 2. */
  retries?: number;
  /** First backoff; doubles per retry, with jitter. Default 250. */
  retryDelayMs?: number;
  maxPointsPerSeries?: number;
  maxSeries?: number;
  /** Largest answer read from Prometheus, in bytes; a larger one is refused (413) before it is parsed. Default 64 MiB. */
  maxResponseBytes?: number;
  /** Called once per query_range attempt, e.g. to feed a prom-client histogram. */
  onUpstreamLatency?: (seconds: number, outcome: UpstreamOutcome) => void;
  /**
   * A range longer than this many seconds is read as pieces of at most this length (split.ts). Default
   * 86 400 (a day, as Mimir's query frontend); 0 reads every range in one query.
   */
  splitInterval?: number;
  /** Pieces of one range read at once. Default 4. */
  splitParallelism?: number;
}

export interface PrometheusBuildInfo {
  /** `null` when the server has no buildinfo endpoint but answered `/-/ready`. */
  version: string | null;
}

/** One failed attempt; `retryable` decides whether the loop tries again. */
class AttemptFailure extends Error {
  constructor(
    readonly error: PrescalerError,
    readonly retryable: boolean,
    readonly status?: number
  ) {
    super(error.message);
  }
}

const EXCERPT_CHARS = 300;

export class PrometheusSource implements SeriesSource {
  readonly kind = 'prometheus' as const;
  /** The base URL without credentials, safe for messages and logs. */
  readonly displayUrl: string;
  private readonly base: string;
  private readonly headers: Record<string, string>;
  private readonly timeoutMs: number;
  private readonly retries: number;
  private readonly retryDelayMs: number;
  private readonly maxPoints: number;
  private readonly maxSeries: number;
  private readonly maxResponseBytes: number;
  private readonly onUpstreamLatency?: (seconds: number, outcome: UpstreamOutcome) => void;
  private readonly splitInterval: number;
  private readonly splitParallelism: number;
  private readonly partialResponse?: boolean;

  constructor(opts: PrometheusSourceOptions) {
    let url: URL;
    try {
      url = new URL(opts.baseUrl);
    } catch {
      throw new Error(`Prometheus URL is not a valid URL: ${JSON.stringify(opts.baseUrl)}`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw new Error(`Prometheus URL must be http or https, got ${url.protocol} in ${opts.baseUrl}`);
    }
    // Uncompressed: Prometheus' gzip of a 1000-series range answer costs it ~4× the query itself (measured
    // by `npm run bench`), and the backend normally sits next to Prometheus, where bytes are cheap.
    this.headers = { Accept: 'application/json', 'Accept-Encoding': 'identity' };
    for (const [name, value] of Object.entries(opts.headers ?? {})) setHeader(this.headers, name, value);
    // fetch refuses URLs with credentials; move them into a header.
    if (url.username || url.password) {
      const user = decodeURIComponent(url.username);
      const pass = decodeURIComponent(url.password);
      setHeader(this.headers, 'Authorization', 'Basic ' + Buffer.from(`${user}:${pass}`).toString('base64'));
      url.username = '';
      url.password = '';
    }
    if (opts.bearerToken) setHeader(this.headers, 'Authorization', `Bearer ${opts.bearerToken}`);
    url.search = '';
    url.hash = '';
    this.base = url.toString().replace(/\/+$/, '');
    this.displayUrl = this.base;
    this.timeoutMs = opts.timeoutMs ?? 10_000;
    this.retries = Math.max(0, opts.retries ?? 2);
    this.retryDelayMs = opts.retryDelayMs ?? 250;
    this.maxPoints = opts.maxPointsPerSeries ?? DEFAULT_MAX_POINTS_PER_SERIES;
    this.maxSeries = opts.maxSeries ?? DEFAULT_MAX_SERIES;
    this.maxResponseBytes = opts.maxResponseBytes ?? 64 * 1024 * 1024;
    this.onUpstreamLatency = opts.onUpstreamLatency;
    this.splitInterval = opts.splitInterval ?? 86_400;
    this.splitParallelism = Math.max(1, opts.splitParallelism ?? 4);
    this.partialResponse = opts.partialResponse;
  }

  async queryRange(q: RangeQuery, signal?: AbortSignal): Promise<Series[]> {
    return (await this.queryRangeColumns(q, signal)).map(toPoints);
  }

  async queryRangeColumns(q: RangeQuery, signal?: AbortSignal): Promise<ColumnSeries[]> {
    assertRange(q, this.maxPoints);
    const pieces = splitRange(q, this.splitInterval);
    if (pieces.length === 1) return this.queryPiece(q, signal);
    if (signal?.aborted) throw abortReason(signal);
    // The first piece to fail stops the others and its error is the answer's. Their answers together
    // are held to maxResponseBytes, and the whole read to the time one query may take with its retries.
    const ctrl = new AbortController();
    const stop = () => ctrl.abort(signal?.reason);
    signal?.addEventListener('abort', stop, { once: true });
    const limitMs = this.timeoutMs * (this.retries + 1);
    const deadline = setTimeout(
      () =>
        ctrl.abort(
          new PrescalerError(
            'upstream_timeout',
            `Prometheus at ${this.displayUrl} did not answer the ${pieces.length} pieces of this range within ${limitMs} ms`
          )
        ),
      limitMs
    );
    const budget = { left: this.maxResponseBytes };
    try {
      const answers = await inBatches(pieces, this.splitParallelism, ctrl, (p) =>
        this.queryPiece(p, ctrl.signal, budget)
      );
      const joined = joinPieces(answers);
      if (joined.length > this.maxSeries) throw tooManySeries(joined.length, this.maxSeries);
      return joined;
    } finally {
      clearTimeout(deadline);
      signal?.removeEventListener('abort', stop);
    }
  }

  /** One range query, retried after a 5xx, a timeout or a connection error. */
  private async queryPiece(q: RangeQuery, signal?: AbortSignal, budget?: Budget): Promise<ColumnSeries[]> {
    // POST, form-encoded: long PromQL does not fit every proxy's URL limit.
    const params = new URLSearchParams({
      query: q.query,
      start: String(q.start),
      end: String(q.end),
      step: String(q.step),
    });
    if (this.partialResponse !== undefined) params.set('partial_response', String(this.partialResponse));
    const form = params.toString();

    for (let attempt = 0; ; attempt++) {
      try {
        return await this.queryRangeOnce(form, signal, budget);
      } catch (err) {
        if (!(err instanceof AttemptFailure)) throw err;
        if (!err.retryable || attempt >= this.retries) throw err.error;
        const full = this.retryDelayMs * 2 ** attempt;
        await sleep(full / 2 + (Math.random() * full) / 2, signal);
      }
    }
  }

  /**
   * Health check: `GET /api/v1/status/buildinfo`, or `/-/ready` where that does not exist. One attempt,
   * no retries. Throws `upstream_error` / `upstream_timeout` when the server is not usable.
   */
  async ping(signal?: AbortSignal): Promise<PrometheusBuildInfo> {
    try {
      const data = await this.api('GET', '/api/v1/status/buildinfo', undefined, signal);
      const version = isRecord(data) && typeof data.version === 'string' ? data.version : null;
      return { version };
    } catch (err) {
      if (!(err instanceof AttemptFailure)) throw err;
      if (err.status !== 404) throw err.error;
    }
    try {
      const res = await this.send('GET', '/-/ready', undefined, signal);
      if (res.status >= 200 && res.status < 300) return { version: null };
      throw new PrescalerError(
        'upstream_error',
        `Prometheus at ${this.displayUrl} is not ready: ${res.status} ${excerpt(utf8.decode(res.body))}`
      );
    } catch (err) {
      if (err instanceof AttemptFailure) throw err.error;
      throw err;
    }
  }

  private async queryRangeOnce(form: string, signal?: AbortSignal, budget?: Budget): Promise<ColumnSeries[]> {
    const started = performance.now();
    let outcome: UpstreamOutcome = 'upstream_error';
    try {
      const data = await this.api('POST', '/api/v1/query_range', form, signal, budget);
      const series = this.parseMatrix(data);
      outcome = 'ok';
      return series;
    } catch (err) {
      if (err instanceof AttemptFailure) outcome = err.error.code as UpstreamOutcome;
      else if (err instanceof PrescalerError) outcome = err.code as UpstreamOutcome;
      else if (signal?.aborted) outcome = 'aborted';
      throw err;
    } finally {
      this.onUpstreamLatency?.((performance.now() - started) / 1000, outcome);
    }
  }

  /** One API call: the `data` of a `{status:"success"}` answer, else an AttemptFailure. */
  private async api(
    method: 'GET' | 'POST',
    path: string,
    form: string | undefined,
    signal?: AbortSignal,
    budget?: Budget
  ) {
    const { status, body } = await this.send(method, path, form, signal, budget);
    const where = `Prometheus at ${this.displayUrl}`;
    let json: unknown;
    try {
      // A byte order mark before the JSON: the text decoding this replaced skipped it (RFC 8259 allows that).
      const bom = body[0] === 0xef && body[1] === 0xbb && body[2] === 0xbf;
      json = parseJsonBytes(bom ? body.subarray(3) : body);
    } catch {
      json = undefined;
    }
    // Only the start: messages show an excerpt, and an answer may be 64 MiB.
    const text = () => utf8.decode(body.subarray(0, 8192));
    // Prometheus' own messages may quote the query, which may be a megabyte long.
    const apiError = isRecord(json) && typeof json.error === 'string' ? echo(json.error, 500) : undefined;
    const errorType = isRecord(json) && typeof json.errorType === 'string' ? json.errorType : undefined;

    if (status >= 200 && status < 300) {
      if (json === undefined) {
        throw new AttemptFailure(
          new PrescalerError(
            'upstream_error',
            `${where} answered ${status} with a body that is not JSON: ${excerpt(text())}`
          ),
          false,
          status
        );
      }
      if (!isRecord(json) || json.status !== 'success') {
        const why = apiError ?? excerpt(text());
        throw new AttemptFailure(
          new PrescalerError('upstream_error', `${where} answered ${status} without success: ${why}`),
          false,
          status
        );
      }
      return json.data;
    }
    // Prometheus answers 400 bad_data for syntax errors and 422 execution for evaluation errors.
    if ((status === 400 || status === 422) && apiError !== undefined) {
      throw new AttemptFailure(new PrescalerError('bad_query', apiError), false, status);
    }
    if (status >= 500) {
      const why = apiError ?? excerpt(text());
      // Prometheus reports its own query timeout as 503 errorType "timeout".
      const code = errorType === 'timeout' ? 'upstream_timeout' : 'upstream_error';
      throw new AttemptFailure(new PrescalerError(code, `${where} answered ${status}: ${why}`), true, status);
    }
    if (status === 429) {
      throw new AttemptFailure(
        new PrescalerError(
          'rate_limited',
          `${where} is rate-limiting queries (429): ${apiError ?? excerpt(text())}`
        ),
        false,
        status
      );
    }
    const hint =
      status === 401 || status === 403
        ? ' (check PROMETHEUS_BEARER_TOKEN)'
        : status === 404
          ? ' (is the base URL, including any path prefix, right?)'
          : '';
    throw new AttemptFailure(
      new PrescalerError(
        'upstream_error',
        `${where} answered ${status}${hint}: ${apiError ?? excerpt(text())}`
      ),
      false,
      status
    );
  }

  /** One HTTP exchange under a per-attempt timeout combined with the caller's signal. */
  private async send(
    method: 'GET' | 'POST',
    path: string,
    form: string | undefined,
    signal?: AbortSignal,
    budget?: Budget
  ): Promise<{ status: number; body: Uint8Array }> {
    if (signal?.aborted) throw abortReason(signal);
    const timeout = AbortSignal.timeout(this.timeoutMs);
    const combined = signal ? AbortSignal.any([signal, timeout]) : timeout;
    const headers: Record<string, string> = { ...this.headers };
    if (form !== undefined) headers['Content-Type'] = 'application/x-www-form-urlencoded';
    try {
      const res = await fetch(this.base + path, { method, headers, body: form, signal: combined });
      const body = await readCapped(res, this.maxResponseBytes, budget);
      return { status: res.status, body };
    } catch (err) {
      if (signal?.aborted) throw abortReason(signal);
      if (err instanceof AttemptFailure) throw err;
      if (timeout.aborted) {
        throw new AttemptFailure(
          new PrescalerError(
            'upstream_timeout',
            `Prometheus at ${this.displayUrl} did not answer within ${this.timeoutMs} ms`
          ),
          true
        );
      }
      throw new AttemptFailure(
        new PrescalerError(
          'upstream_error',
          `cannot reach Prometheus at ${this.displayUrl}: ${describeNetworkError(err)}`
        ),
        true
      );
    }
  }

  private parseMatrix(data: unknown): ColumnSeries[] {
    const where = `Prometheus at ${this.displayUrl}`;
    if (!isRecord(data) || !Array.isArray(data.result)) {
      throw new AttemptFailure(
        new PrescalerError('upstream_error', `${where} sent a malformed query result`),
        false
      );
    }
    if (data.resultType !== 'matrix') {
      throw new PrescalerError(
        'bad_query',
        `a range query must give a range of series (matrix), this one gives ${String(data.resultType)}`
      );
    }
    if (data.result.length > this.maxSeries) throw tooManySeries(data.result.length, this.maxSeries);
    return data.result.map((item): ColumnSeries => {
      if (!isRecord(item)) {
        throw new AttemptFailure(
          new PrescalerError('upstream_error', `${where} sent a malformed series`),
          false
        );
      }
      const labels: Labels = {};
      if (isRecord(item.metric)) {
        for (const [k, v] of Object.entries(item.metric)) if (typeof v === 'string') labels[k] = v;
      }
      if (item.values instanceof SamplePairs) {
        const { times, values, text } = item.values;
        return { labels, times, values, text };
      }
      // Native-histogram-only series carry `histograms` and no `values`: no float points to give.
      // Otherwise `values` here is an array the fast reader did not take for [t, "v"] pairs.
      const pairs: unknown[] = Array.isArray(item.values) ? item.values : [];
      const times = new Float64Array(pairs.length);
      const values = new Float64Array(pairs.length);
      pairs.forEach((pair, i) => {
        if (!Array.isArray(pair) || typeof pair[0] !== 'number') {
          throw new AttemptFailure(
            new PrescalerError('upstream_error', `${where} sent a malformed sample`),
            false
          );
        }
        times[i] = pair[0];
        values[i] = parseSampleValue(pair[1]);
      });
      return { labels, times, values };
    });
  }
}

/** Prometheus encodes sample values as strings, including `NaN`, `+Inf` and `-Inf`. */
export function parseSampleValue(raw: unknown): number {
  if (typeof raw === 'number') return raw;
  if (typeof raw !== 'string') return NaN;
  return sampleValueFromText(raw);
}

const utf8 = new TextDecoder();

/** Sets a header, replacing one of the same name in any case (fetch would join the two with a comma). */
function setHeader(headers: Record<string, string>, name: string, value: string): void {
  for (const k of Object.keys(headers)) if (k.toLowerCase() === name.toLowerCase()) delete headers[k];
  headers[name] = value;
}

function isRecord(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

function excerpt(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  if (flat === '') return '(empty body)';
  return flat.length > EXCERPT_CHARS ? flat.slice(0, EXCERPT_CHARS) + '…' : flat;
}

function abortReason(signal: AbortSignal): unknown {
  return signal.reason ?? new DOMException('The operation was aborted', 'AbortError');
}

/** undici wraps the socket error in `cause` (an AggregateError when several addresses were tried). */
function describeNetworkError(err: unknown): string {
  // fetch refuses ports on the browsers' unsafe list (1, 9, 6000, …) before connecting.
  if (err instanceof Error && err.cause instanceof Error && err.cause.message === 'bad port') {
    return 'bad port (fetch refuses this port number; use another one)';
  }
  const cause = isRecord(err) ? err.cause : undefined;
  const inner = cause instanceof AggregateError && cause.errors.length > 0 ? cause.errors[0] : cause;
  if (isRecord(inner) || inner instanceof Error) {
    const rec = inner as { code?: unknown; message?: unknown };
    const code = typeof rec.code === 'string' ? rec.code : undefined;
    const message = typeof rec.message === 'string' && rec.message !== '' ? rec.message : undefined;
    if (message && code && !message.includes(code)) return `${code}: ${message}`;
    if (message || code) return (message ?? code)!;
  }
  return err instanceof Error ? err.message : String(err);
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(abortReason(signal));
    const onAbort = () => {
      clearTimeout(timer);
      reject(abortReason(signal!));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * Reads a response body up to `maxBytes`: a query matching far more than intended must fail with a clear
 * 413, not exhaust the backend's memory. Not retried: the same query would return the same answer.
 */
async function readCapped(res: Response, maxBytes: number, budget?: Budget): Promise<Uint8Array> {
  const declared = Number(res.headers.get('content-length'));
  const tooLarge = () =>
    new AttemptFailure(
      new PrescalerError(
        'too_large',
        `Prometheus' answer${budget ? 's to the pieces of this range together' : ''} exceed${budget ? '' : 's'} ` +
          `${Math.round(maxBytes / 1048576)} MiB: narrow the query's label matchers or raise step`
      ),
      false,
      res.status
    );
  if (declared > maxBytes || (budget && declared > budget.left)) {
    await res.body?.cancel();
    throw tooLarge();
  }
  if (!res.body) return new Uint8Array(0);
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let bytes = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    bytes += value.byteLength;
    if (budget) budget.left -= value.byteLength;
    if (bytes > maxBytes || (budget && budget.left < 0)) {
      await reader.cancel();
      throw tooLarge();
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks, bytes);
}

/** The error for an answer with more series than the limit (`limits.maxSeriesPerQuery`). */
export function tooManySeries(n: number, limit: number): PrescalerError {
  return new PrescalerError(
    'too_large',
    `the query returns ${n} series, more than the limit of ${limit}; ` +
      'narrow the selector or aggregate (e.g. sum by (…))'
  );
}

/** Bytes the answers of one split read may still take (they share maxResponseBytes). */
interface Budget {
  left: number;
}
