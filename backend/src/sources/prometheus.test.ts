import http from 'node:http';
import type { AddressInfo } from 'node:net';

import { PrescalerError } from '../errors';
import { parseSampleValue, PrometheusSource, type UpstreamOutcome } from './prometheus';

interface Recorded {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

type Reply = { status: number; body: string | object; delayMs?: number; contentType?: string };

/** A stand-in Prometheus: records every request and answers from a script (last reply repeats). */
async function fakePrometheus(script: Reply[] | ((req: Recorded) => Reply)) {
  const requests: Recorded[] = [];
  const timers = new Set<NodeJS.Timeout>();
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      const rec = { method: req.method!, url: req.url!, headers: req.headers, body };
      requests.push(rec);
      const reply =
        typeof script === 'function' ? script(rec) : script[Math.min(requests.length, script.length) - 1];
      const send = () => {
        const text = typeof reply.body === 'string' ? reply.body : JSON.stringify(reply.body);
        res.writeHead(reply.status, { 'Content-Type': reply.contentType ?? 'application/json' });
        res.end(text);
      };
      if (reply.delayMs) {
        const timer = setTimeout(() => {
          timers.delete(timer);
          send();
        }, reply.delayMs);
        timers.add(timer);
      } else send();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: async () => {
      for (const t of timers) clearTimeout(t);
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

const matrix = (result: unknown[]) => ({ status: 'success', data: { resultType: 'matrix', result } });
const q = { query: 'sum(rate(x[5m]))', start: 1700000000, end: 1700003600, step: 60 };

async function rejection(p: Promise<unknown>): Promise<PrescalerError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(PrescalerError);
    return err as PrescalerError;
  }
  throw new Error('expected the promise to reject');
}

describe('PrometheusSource', () => {
  let server: Awaited<ReturnType<typeof fakePrometheus>> | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  it('refuses an answer larger than maxResponseBytes with 413 and does not retry it', async () => {
    const big = matrix(
      Array.from({ length: 200 }, (_, i) => ({ metric: { pod: `p${i}` }, values: [[1700000000, '1']] }))
    );
    server = await fakePrometheus([{ status: 200, body: big }]);
    const src = new PrometheusSource({ baseUrl: server.url, maxResponseBytes: 4096, retryDelayMs: 1 });
    const err = await rejection(src.queryRange(q));
    expect(err.code).toBe('too_large');
    expect(err.message).toMatch(/answer exceeds 0 MiB: narrow the query/);
    expect(server.requests).toHaveLength(1);
    // The same answer under the cap is read in full.
    const roomy = new PrometheusSource({ baseUrl: server.url, maxResponseBytes: 1 << 20 });
    expect(await roomy.queryRange(q)).toHaveLength(200);
  });

  it('passes an upstream 429 on as rate_limited without retrying', async () => {
    server = await fakePrometheus([{ status: 429, body: 'too many queries', contentType: 'text/plain' }]);
    const src = new PrometheusSource({ baseUrl: server.url, retryDelayMs: 1 });
    const err = await rejection(src.queryRange(q));
    expect(err.code).toBe('rate_limited');
    expect(err.status).toBe(429);
    expect(err.message).toContain('too many queries');
    expect(server.requests).toHaveLength(1);
  });

  it('POSTs a form to query_range under the base path, with the bearer token', async () => {
    server = await fakePrometheus([{ status: 200, body: matrix([]) }]);
    const src = new PrometheusSource({ baseUrl: `${server.url}/prometheus/`, bearerToken: 's3cret' });
    const longQuery = `sum(rate(http_requests_total{path=~"${'/a'.repeat(3000)}"}[5m]))`;
    await src.queryRange({ ...q, query: longQuery, start: 1700000000.5 });

    expect(server.requests).toHaveLength(1);
    const [req] = server.requests;
    expect(req.method).toBe('POST');
    expect(req.url).toBe('/prometheus/api/v1/query_range');
    expect(req.headers['content-type']).toBe('application/x-www-form-urlencoded');
    expect(req.headers.authorization).toBe('Bearer s3cret');
    expect(req.headers.accept).toBe('application/json');
    const form = new URLSearchParams(req.body);
    expect([...form.keys()]).toEqual(['query', 'start', 'end', 'step']);
    expect(form.get('query')).toBe(longQuery);
    expect(form.get('start')).toBe('1700000000.5');
    expect(form.get('end')).toBe('1700003600');
    expect(form.get('step')).toBe('60');
  });

  it('turns user:password in the URL into Basic auth and keeps it out of messages', async () => {
    server = await fakePrometheus([{ status: 200, body: matrix([]) }]);
    const withCreds = server.url.replace('http://', 'http://al%20ice:p%40ss@');
    const src = new PrometheusSource({ baseUrl: withCreds });
    await src.queryRange(q);
    expect(server.requests[0].headers.authorization).toBe(
      'Basic ' + Buffer.from('al ice:p@ss').toString('base64')
    );
    expect(src.displayUrl).toBe(server.url);
  });

  it('parses a matrix with labels and NaN, +Inf, -Inf values', async () => {
    server = await fakePrometheus([
      {
        status: 200,
        body: matrix([
          {
            metric: { __name__: 'up', job: 'node', instance: 'a:9100' },
            values: [
              [1700000000, '1'],
              [1700000060, 'NaN'],
              [1700000120, '+Inf'],
              [1700000180, '-Inf'],
              [1700000240, '1.5e-3'],
            ],
          },
          { metric: {}, values: [[1700000000.25, '42']] },
        ]),
      },
    ]);
    const series = await new PrometheusSource({ baseUrl: server.url }).queryRange(q);
    expect(series).toHaveLength(2);
    expect(series[0].labels).toEqual({ __name__: 'up', job: 'node', instance: 'a:9100' });
    const values = series[0].points.map((p) => p[1]);
    expect(series[0].points.map((p) => p[0])).toEqual([
      1700000000, 1700000060, 1700000120, 1700000180, 1700000240,
    ]);
    expect(values[0]).toBe(1);
    expect(Number.isNaN(values[1])).toBe(true);
    expect(values[2]).toBe(Infinity);
    expect(values[3]).toBe(-Infinity);
    expect(values[4]).toBeCloseTo(0.0015, 12);
    expect(series[1]).toEqual({ labels: {}, points: [[1700000000.25, 42]] });
  });

  it('maps 400 bad_data to bad_query with Prometheus’ own text, without retrying', async () => {
    const text = '1:17: parse error: unclosed left parenthesis';
    server = await fakePrometheus([
      { status: 400, body: { status: 'error', errorType: 'bad_data', error: text } },
    ]);
    const outcomes: UpstreamOutcome[] = [];
    const src = new PrometheusSource({
      baseUrl: server.url,
      retryDelayMs: 1,
      onUpstreamLatency: (s, o) => {
        expect(s).toBeGreaterThanOrEqual(0);
        outcomes.push(o);
      },
    });
    const err = await rejection(src.queryRange(q));
    expect(err.code).toBe('bad_query');
    expect(err.status).toBe(400);
    expect(err.message).toBe(text);
    expect(server.requests).toHaveLength(1);
    expect(outcomes).toEqual(['bad_query']);
  });

  it('cuts Prometheus’ text short when it quotes a long query', async () => {
    const text = `1:1: parse error: unexpected character in ${'x'.repeat(100_000)}`;
    server = await fakePrometheus([
      { status: 400, body: { status: 'error', errorType: 'bad_data', error: text } },
    ]);
    const err = await rejection(new PrometheusSource({ baseUrl: server.url, retryDelayMs: 1 }).queryRange(q));
    expect(err.code).toBe('bad_query');
    expect(err.message.length).toBeLessThan(600);
    expect(err.message).toMatch(/^1:1: parse error: unexpected character in x+… \(100042 characters\)$/);
  });

  it('maps 422 execution to bad_query', async () => {
    const text = 'query processing would load too many samples into memory in query execution';
    server = await fakePrometheus([
      { status: 422, body: { status: 'error', errorType: 'execution', error: text } },
    ]);
    const err = await rejection(new PrometheusSource({ baseUrl: server.url, retryDelayMs: 1 }).queryRange(q));
    expect(err.code).toBe('bad_query');
    expect(err.message).toBe(text);
    expect(server.requests).toHaveLength(1);
  });

  it('retries 5xx with backoff and succeeds', async () => {
    server = await fakePrometheus([
      { status: 503, body: 'upstream connect error' },
      { status: 502, body: '<html>bad gateway</html>', contentType: 'text/html' },
      { status: 200, body: matrix([{ metric: { a: 'b' }, values: [[1700000000, '3']] }]) },
    ]);
    const outcomes: UpstreamOutcome[] = [];
    const src = new PrometheusSource({
      baseUrl: server.url,
      retryDelayMs: 20,
      onUpstreamLatency: (_, o) => outcomes.push(o),
    });
    const t0 = Date.now();
    const series = await src.queryRange(q);
    const waited = Date.now() - t0;
    expect(series).toEqual([{ labels: { a: 'b' }, points: [[1700000000, 3]] }]);
    expect(server.requests).toHaveLength(3);
    expect(outcomes).toEqual(['upstream_error', 'upstream_error', 'ok']);
    // Backoff with jitter: at least half of 20 ms then half of 40 ms.
    expect(waited).toBeGreaterThanOrEqual(30);
    // Every attempt carries the same request.
    expect(new Set(server.requests.map((r) => r.body)).size).toBe(1);
  });

  it('gives upstream_error with status and body excerpt once the retries are spent', async () => {
    server = await fakePrometheus([{ status: 500, body: 'panic: ' + 'x'.repeat(2000) }]);
    const err = await rejection(
      new PrometheusSource({ baseUrl: server.url, retries: 2, retryDelayMs: 1 }).queryRange(q)
    );
    expect(err.code).toBe('upstream_error');
    expect(err.status).toBe(502);
    expect(err.message).toContain('500');
    expect(err.message).toContain('panic: xxx');
    expect(err.message.length).toBeLessThan(500);
    expect(server.requests).toHaveLength(3);
  });

  it('maps Prometheus’ own query timeout (503 timeout) to upstream_timeout', async () => {
    server = await fakePrometheus([
      {
        status: 503,
        body: { status: 'error', errorType: 'timeout', error: 'query timed out in expression evaluation' },
      },
    ]);
    const err = await rejection(
      new PrometheusSource({ baseUrl: server.url, retries: 1, retryDelayMs: 1 }).queryRange(q)
    );
    expect(err.code).toBe('upstream_timeout');
    expect(err.message).toContain('query timed out');
    expect(server.requests).toHaveLength(2);
  });

  it.each([
    [401, 'PROMETHEUS_BEARER_TOKEN'],
    [403, 'PROMETHEUS_BEARER_TOKEN'],
    [404, 'path prefix'],
  ])('never retries a %i and names the cause', async (status, hint) => {
    server = await fakePrometheus([{ status, body: 'not for you', contentType: 'text/plain' }]);
    const err = await rejection(new PrometheusSource({ baseUrl: server.url, retryDelayMs: 1 }).queryRange(q));
    expect(err.code).toBe('upstream_error');
    expect(err.message).toContain(String(status));
    expect(err.message).toContain(hint);
    expect(server.requests).toHaveLength(1);
  });

  it('treats a 400 that is not Prometheus JSON (a proxy page) as upstream_error', async () => {
    server = await fakePrometheus([
      { status: 400, body: '<html>400 Bad Request</html>', contentType: 'text/html' },
    ]);
    const err = await rejection(new PrometheusSource({ baseUrl: server.url }).queryRange(q));
    expect(err.code).toBe('upstream_error');
    expect(err.message).toContain('400 Bad Request');
  });

  it('treats a 200 that is not JSON as upstream_error, without retrying', async () => {
    server = await fakePrometheus([{ status: 200, body: '<html>login</html>', contentType: 'text/html' }]);
    const err = await rejection(new PrometheusSource({ baseUrl: server.url, retryDelayMs: 1 }).queryRange(q));
    expect(err.code).toBe('upstream_error');
    expect(err.message).toContain('not JSON');
    expect(err.message).toContain('<html>login</html>');
    expect(server.requests).toHaveLength(1);
  });

  it('reads an answer that starts with a UTF-8 byte order mark, as decoding it to text did', async () => {
    server = await fakePrometheus([
      {
        status: 200,
        body: '\uFEFF' + JSON.stringify(matrix([{ metric: { a: 'b' }, values: [[1700000000, '2']] }])),
      },
    ]);
    const series = await new PrometheusSource({ baseUrl: server.url, retryDelayMs: 1 }).queryRange(q);
    expect(series).toEqual([{ labels: { a: 'b' }, points: [[1700000000, 2]] }]);
  });

  it('treats a result type other than matrix as bad_query', async () => {
    server = await fakePrometheus([
      { status: 200, body: { status: 'success', data: { resultType: 'vector', result: [] } } },
    ]);
    const err = await rejection(new PrometheusSource({ baseUrl: server.url }).queryRange(q));
    expect(err.code).toBe('bad_query');
    expect(err.message).toContain('vector');
  });

  it('times out a slow answer as upstream_timeout after retrying it', async () => {
    server = await fakePrometheus([{ status: 200, body: matrix([]), delayMs: 2000 }]);
    const outcomes: UpstreamOutcome[] = [];
    const src = new PrometheusSource({
      baseUrl: server.url,
      timeoutMs: 100,
      retries: 1,
      retryDelayMs: 1,
      onUpstreamLatency: (_, o) => outcomes.push(o),
    });
    const t0 = Date.now();
    const err = await rejection(src.queryRange(q));
    expect(Date.now() - t0).toBeLessThan(1500);
    expect(err.code).toBe('upstream_timeout');
    expect(err.status).toBe(504);
    expect(err.message).toContain('100 ms');
    expect(server.requests).toHaveLength(2);
    expect(outcomes).toEqual(['upstream_timeout', 'upstream_timeout']);
  });

  it('maps a refused connection to upstream_error naming the URL', async () => {
    server = await fakePrometheus([{ status: 200, body: matrix([]) }]);
    const url = server.url;
    await server.close();
    server = undefined;
    const outcomes: UpstreamOutcome[] = [];
    const src = new PrometheusSource({
      baseUrl: url,
      retries: 2,
      retryDelayMs: 1,
      onUpstreamLatency: (_, o) => outcomes.push(o),
    });
    const err = await rejection(src.queryRange(q));
    expect(err.code).toBe('upstream_error');
    expect(err.message).toContain(url);
    expect(err.message).toContain('ECONNREFUSED');
    expect(outcomes).toEqual(['upstream_error', 'upstream_error', 'upstream_error']);
  });

  it('maps an unknown host to upstream_error', async () => {
    const src = new PrometheusSource({ baseUrl: 'http://prometheus.invalid:9090', retries: 0 });
    const err = await rejection(src.queryRange(q));
    expect(err.code).toBe('upstream_error');
    expect(err.message).toContain('http://prometheus.invalid:9090');
    expect(err.message).toMatch(/ENOTFOUND|EAI_AGAIN/);
  });

  it('refuses too many points per series before sending anything', async () => {
    server = await fakePrometheus([{ status: 200, body: matrix([]) }]);
    const src = new PrometheusSource({ baseUrl: server.url });
    // 11 000 points exactly is allowed, 11 001 is not.
    await src.queryRange({ ...q, start: 0, end: 10999, step: 1 });
    const err = await rejection(src.queryRange({ ...q, start: 0, end: 11000, step: 1 }));
    expect(err.code).toBe('too_large');
    expect(err.status).toBe(413);
    expect(err.message).toContain('11001');
    expect(server.requests).toHaveLength(1);
  });

  it('refuses an answer with more series than maxSeries', async () => {
    const result = [1, 2, 3].map((i) => ({ metric: { i: String(i) }, values: [[1700000000, '1']] }));
    server = await fakePrometheus([{ status: 200, body: matrix(result) }]);
    const src = new PrometheusSource({ baseUrl: server.url, maxSeries: 2 });
    const err = await rejection(src.queryRange(q));
    expect(err.code).toBe('too_large');
    expect(err.message).toContain('3 series');
    expect(await new PrometheusSource({ baseUrl: server.url, maxSeries: 3 }).queryRange(q)).toHaveLength(3);
  });

  it('rejects a malformed range as bad_request', async () => {
    const src = new PrometheusSource({ baseUrl: 'http://127.0.0.1:1' });
    expect((await rejection(src.queryRange({ ...q, step: 0 }))).code).toBe('bad_request');
    expect((await rejection(src.queryRange({ ...q, end: q.start - 1 }))).code).toBe('bad_request');
    expect((await rejection(src.queryRange({ ...q, start: NaN }))).code).toBe('bad_request');
  });

  it('stops at once when the caller aborts, without retrying', async () => {
    server = await fakePrometheus([{ status: 200, body: matrix([]), delayMs: 2000 }]);
    const src = new PrometheusSource({ baseUrl: server.url, retryDelayMs: 1 });
    const ctl = new AbortController();
    setTimeout(() => ctl.abort(), 50);
    const t0 = Date.now();
    await expect(src.queryRange(q, ctl.signal)).rejects.toMatchObject({ name: 'AbortError' });
    expect(Date.now() - t0).toBeLessThan(1000);
    expect(server.requests).toHaveLength(1);
  });

  it('aborts during a backoff wait', async () => {
    server = await fakePrometheus([{ status: 503, body: 'busy' }]);
    const src = new PrometheusSource({ baseUrl: server.url, retryDelayMs: 5000 });
    const ctl = new AbortController();
    setTimeout(() => ctl.abort(), 100);
    const t0 = Date.now();
    await expect(src.queryRange(q, ctl.signal)).rejects.toMatchObject({ name: 'AbortError' });
    expect(Date.now() - t0).toBeLessThan(1000);
    expect(server.requests).toHaveLength(1);
  });

  describe('a range longer than splitInterval', () => {
    /** Answers every query_range for two series, one sample per step, each after `delayMs`. */
    const evaluating = (delayMs: number, fail?: (start: number) => Reply | undefined) => {
      const arrivals: number[] = [];
      const script = (req: Recorded): Reply => {
        arrivals.push(performance.now());
        const f = new URLSearchParams(req.body);
        const [start, end, step] = ['start', 'end', 'step'].map((k) => Number(f.get(k)));
        const failed = fail?.(start);
        if (failed) return failed;
        const values: Array<[number, string]> = [];
        for (let t = start; t <= end; t += step) values.push([t, String(t % 7)]);
        const result = ['b', 'a'].map((pod) => ({ metric: { pod }, values })).reverse();
        return { status: 200, body: matrix(result), delayMs };
      };
      return { arrivals, script };
    };
    const long = { query: 'up', start: 1_700_000_000, end: 1_700_000_000 + 6 * 3600 - 60, step: 60 };

    it('reads it as pieces, at most splitParallelism at once, and answers what one query would', async () => {
      const { arrivals, script } = evaluating(80);
      server = await fakePrometheus(script);
      const split = new PrometheusSource({ baseUrl: server.url, splitInterval: 3600, splitParallelism: 2 });
      const answer = await split.queryRange(long);
      expect(server.requests).toHaveLength(6);
      // Never more than two in flight: arrivals come two by two, a reply's delay apart.
      for (const t of arrivals)
        expect(arrivals.filter((u) => u >= t && u < t + 60).length).toBeLessThanOrEqual(2);
      const whole = new PrometheusSource({ baseUrl: server.url, splitInterval: 0 });
      expect(answer).toEqual(await whole.queryRange(long));
      expect(answer.map((x) => x.points.length)).toEqual([360, 360]);
    });

    it('fails with the first piece that fails, and starts no more', async () => {
      const { script } = evaluating(50, (start) =>
        start === long.start + 3600
          ? { status: 400, body: { status: 'error', errorType: 'bad_data', error: 'no' } }
          : undefined
      );
      server = await fakePrometheus(script);
      const split = new PrometheusSource({ baseUrl: server.url, splitInterval: 3600, splitParallelism: 2 });
      const err = await rejection(split.queryRange(long));
      expect(err.code).toBe('bad_query');
      expect(server.requests.length).toBeLessThan(6);
    });

    it('holds the pieces together to maxResponseBytes, and counts the stopped ones as aborted', async () => {
      const { script } = evaluating(20);
      server = await fakePrometheus(script);
      const outcomes: UpstreamOutcome[] = [];
      const one = await new PrometheusSource({ baseUrl: server.url, splitInterval: 0 }).queryRange({
        ...long,
        end: long.start + 3600 - 60,
      });
      expect(one).toHaveLength(2);
      // Each piece's answer is ~2.4 KB; six of them do not fit in 8 KB together.
      const split = new PrometheusSource({
        baseUrl: server.url,
        splitInterval: 3600,
        splitParallelism: 2,
        maxResponseBytes: 8 * 1024,
        onUpstreamLatency: (_s, o) => outcomes.push(o),
      });
      const err = await rejection(split.queryRange(long));
      expect(err.code).toBe('too_large');
      expect(err.message).toMatch(/answers to the pieces of this range together exceed/);
      expect(outcomes.filter((o) => o === 'too_large')).toHaveLength(1);
      expect(outcomes.every((o) => o === 'ok' || o === 'too_large' || o === 'aborted')).toBe(true);
    });

    it('gives upstream_timeout when the pieces together take longer than one query may', async () => {
      const { script } = evaluating(120);
      server = await fakePrometheus(script);
      // Each piece answers within the 200 ms timeout; six of them one at a time do not.
      const split = new PrometheusSource({
        baseUrl: server.url,
        splitInterval: 3600,
        splitParallelism: 1,
        timeoutMs: 200,
        retries: 0,
      });
      const t0 = Date.now();
      const err = await rejection(split.queryRange(long));
      expect(err.code).toBe('upstream_timeout');
      expect(err.message).toMatch(/did not answer the 6 pieces of this range within 200 ms/);
      expect(Date.now() - t0).toBeLessThan(600);
      expect(server.requests.length).toBeLessThan(6);
    });

    it('sends nothing when the caller has already aborted', async () => {
      const { script } = evaluating(0);
      server = await fakePrometheus(script);
      const split = new PrometheusSource({ baseUrl: server.url, splitInterval: 3600 });
      const ctl = new AbortController();
      ctl.abort();
      await expect(split.queryRange(long, ctl.signal)).rejects.toMatchObject({ name: 'AbortError' });
      expect(server.requests).toHaveLength(0);
    });

    it('stops every piece when the caller aborts', async () => {
      const { script } = evaluating(2000);
      server = await fakePrometheus(script);
      const split = new PrometheusSource({ baseUrl: server.url, splitInterval: 3600, retryDelayMs: 1 });
      const ctl = new AbortController();
      setTimeout(() => ctl.abort(), 50);
      const t0 = Date.now();
      await expect(split.queryRange(long, ctl.signal)).rejects.toMatchObject({ name: 'AbortError' });
      expect(Date.now() - t0).toBeLessThan(1000);
      expect(server.requests).toHaveLength(4); // the first four, none after
    });
  });

  it('ping reads buildinfo', async () => {
    server = await fakePrometheus([
      { status: 200, body: { status: 'success', data: { version: '2.42.0', revision: 'x' } } },
    ]);
    expect(await new PrometheusSource({ baseUrl: server.url + '/p' }).ping()).toEqual({ version: '2.42.0' });
    expect(server.requests[0].method).toBe('GET');
    expect(server.requests[0].url).toBe('/p/api/v1/status/buildinfo');
  });

  it('ping falls back to /-/ready where buildinfo is missing', async () => {
    server = await fakePrometheus((req) =>
      req.url === '/-/ready'
        ? { status: 200, body: 'Ready.', contentType: 'text/plain' }
        : { status: 404, body: '404 page not found' }
    );
    expect(await new PrometheusSource({ baseUrl: server.url }).ping()).toEqual({ version: null });
    expect(server.requests.map((r) => r.url)).toEqual(['/api/v1/status/buildinfo', '/-/ready']);
  });

  it('ping fails with upstream_error when the server is not ready', async () => {
    server = await fakePrometheus((req) =>
      req.url === '/-/ready'
        ? { status: 503, body: 'Service Unavailable' }
        : { status: 404, body: 'not found' }
    );
    const err = await rejection(new PrometheusSource({ baseUrl: server.url }).ping());
    expect(err.code).toBe('upstream_error');
    expect(err.message).toContain('not ready');
  });

  it('refuses a base URL that is not http(s)', () => {
    expect(() => new PrometheusSource({ baseUrl: 'prometheus:9090' })).toThrow(/http or https/);
    expect(() => new PrometheusSource({ baseUrl: 'not a url' })).toThrow(/not a valid URL/);
  });
});

describe('parseSampleValue', () => {
  it('reads Prometheus’ number strings', () => {
    expect(parseSampleValue('0')).toBe(0);
    expect(parseSampleValue('-2.5')).toBe(-2.5);
    expect(parseSampleValue('1e+06')).toBe(1e6);
    expect(parseSampleValue('+Inf')).toBe(Infinity);
    expect(parseSampleValue('-Inf')).toBe(-Infinity);
    expect(Number.isNaN(parseSampleValue('NaN'))).toBe(true);
    expect(Number.isNaN(parseSampleValue(''))).toBe(true);
  });
});
