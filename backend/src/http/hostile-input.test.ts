/**
 * Input a careless or hostile client sends (issue 21's black-box findings), against the real server in
 * process on the demo source: each answered in the documented error shape with the documented status.
 */
import * as http from 'node:http';
import * as net from 'node:net';
import { startTestServer, type TestServer } from '../../../test/helpers/server';
import { answerClientError } from './client-error';

let h: TestServer;
let url: string;
beforeAll(async () => {
  h = await startTestServer({
    yaml: `targets:
  - name: web
    workload: {kind: Deployment, name: web}
    query: demo_cpu_usage{deployment="web"}
    capacityPerReplica: 0.5
    maxReplicas: 20
`,
    startLoop: false,
  });
  url = h.srv.url;
});
afterAll(() => h.close());

async function post(path: string, body: unknown) {
  const res = await fetch(url + path, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, text, body: JSON.parse(text) as { error: { code: string; message: string } } };
}

const WEB = 'demo_cpu_usage{deployment="web"}';
const END = 1_764_000_000;
/** A numeric string too long for a double: Number() of it is Infinity. */
const HUGE = '1' + '0'.repeat(400);

describe('numbers too long to be finite (item 7)', () => {
  it.each([
    ['/api/forecast', 'end', HUGE],
    ['/api/forecast', 'end', '-' + HUGE],
    ['/api/forecast', 'start', '-' + HUGE],
    ['/api/forecast', 'step', HUGE],
    ['/api/forecast', 'step', `${HUGE}s`],
    ['/api/forecast', 'horizon', HUGE],
    ['/api/forecast', 'horizon', `${HUGE}m`],
    ['/api/anomalies', 'end', HUGE],
    ['/api/anomalies', 'start', '-' + HUGE],
    ['/api/anomalies', 'step', HUGE],
  ])('%s %s: %#', async (path, field, value) => {
    const { status, body } = await post(path, { query: WEB, end: END, [field]: value });
    expect(status).toBe(400);
    expect(body.error.code).toBe('bad_request');
    expect(body.error.message).toMatch(new RegExp(`^${field}: `));
  });

  it.each(['end', 'start', 'step', 'horizon'])(
    'a JSON number that overflows (1e999) as %s',
    async (field) => {
      const { status, body } = await post(
        '/api/forecast',
        `{"query": ${JSON.stringify(WEB)}, "end": ${field === 'end' ? '1e999' : END}, "${field}": 1e999}`
      );
      expect(status).toBe(400);
      expect(body.error).toMatchObject({
        code: 'bad_request',
        message: expect.stringMatching(`^${field}: `),
      });
    }
  );

  it.each([
    ['start', '-' + HUGE],
    ['end', HUGE],
    ['startup', HUGE],
    ['startup', `${HUGE}s`],
  ])('/api/whatif %s', async (field, value) => {
    const { status, body } = await post('/api/whatif', { target: 'web', [field]: value });
    expect(status).toBe(400);
    expect(body.error).toMatchObject({ code: 'bad_request', message: expect.stringMatching(`^${field}: `) });
  });

  it.each(['peakReplicas', 'targetUtilization'])('/api/whatif %s as ±1e999', async (field) => {
    for (const n of ['1e999', '-1e999']) {
      const { status, body } = await post('/api/whatif', `{"target": "web", "${field}": ${n}}`);
      expect(status).toBe(400);
      expect(body.error).toMatchObject({
        code: 'bad_request',
        message: expect.stringMatching(`^${field}: `),
      });
    }
  });
});

describe('error messages quote input cut short (item 8)', () => {
  /** Asserts an error answer whose message quotes at most ~200 characters of `input`. */
  function expectCut(res: { text: string; body: { error: { message: string } } }, input: string) {
    expect(res.text.length).toBeLessThan(2000);
    expect(res.body.error.message).toContain(`… (${input.length} characters)`);
  }

  it('a 0.99 MB query the demo source cannot parse', async () => {
    const query = 'demo_cpu_usage{deployment="web"} ' + 'x'.repeat(990_000);
    const res = await post('/api/forecast', { query, end: END });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('bad_query');
    expectCut(res, query);
  });

  it('an unknown metric with a long name', async () => {
    const res = await post('/api/anomalies', { query: 'x'.repeat(100_000), end: END });
    expect(res.status).toBe(400);
    expect(res.text.length).toBeLessThan(2000);
    expect(res.body.error.message).toMatch(
      /^unknown metric x{100}… \(100000 characters\) in "x{200}"… \(100000/
    );
  });

  it.each(['start', 'end', 'step', 'horizon'])('a long %s that is not a time or duration', async (field) => {
    const value = 'now'.repeat(50_000);
    const res = await post('/api/forecast', { query: WEB, [field]: value });
    expect(res.status).toBe(400);
    expect(res.body.error.message).toMatch(
      new RegExp(`^${field}: "[now]{200}"… \\(150000 characters\\) is not a`)
    );
    expectCut(res, value);
  });

  it('many long unknown fields', async () => {
    const body: Record<string, number> = { query: 1 };
    for (let i = 0; i < 900; i++) body[`${i}-${'k'.repeat(1000)}`] = i;
    const res = await post('/api/forecast', { ...body, query: WEB });
    expect(res.status).toBe(400);
    expect(res.text.length).toBeLessThan(2000);
    expect(res.body.error.message).toMatch(/^body: unknown field\(s\): .* and 895 more$/);
  });

  it('a body that is not JSON', async () => {
    const text = '{"query": ' + 'x'.repeat(500_000);
    const res = await post('/api/forecast', text);
    expect(res.status).toBe(400);
    expect(res.text.length).toBeLessThan(2000);
    expect(res.body.error.message).toMatch(/^body is not valid JSON/);
  });

  it('a long what-if target', async () => {
    const target = 't'.repeat(100_000);
    const res = await post('/api/whatif', { target });
    expect(res.status).toBe(404);
    expectCut(res, target);
  });

  it('a long recommendation id, status filter and path', async () => {
    const id = 'i'.repeat(8000);
    const one = await fetch(`${url}/api/recommendations/${id}`);
    expect(one.status).toBe(404);
    const oneText = await one.text();
    expectCut({ text: oneText, body: JSON.parse(oneText) }, id);

    const status = 's'.repeat(8000);
    const list = await fetch(`${url}/api/recommendations?status=${status}`);
    expect(list.status).toBe(400);
    const listText = await list.text();
    expect(listText.length).toBeLessThan(2000);
    expect(JSON.parse(listText).error.message).toMatch(/^status: Invalid enum value/);

    const apply = await fetch(`${url}/api/recommendations/${id}/apply`, { method: 'POST' });
    expect(apply.status).toBe(401); // no tokens here: refused before the id is looked at
    expect((await apply.text()).length).toBeLessThan(2000);

    const path = '/api/' + 'p'.repeat(8000);
    const none = await fetch(url + path);
    expect(none.status).toBe(404);
    const noneText = await none.text();
    expectCut({ text: noneText, body: JSON.parse(noneText) }, path);
  });
});

/** Sends raw bytes to the server and reads what comes back until it closes the connection. */
function raw(bytes: string): Promise<string> {
  const { port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(port), '127.0.0.1');
    let got = '';
    socket.setEncoding('utf8');
    socket.on('data', (d) => (got += d));
    socket.on('end', () => resolve(got));
    socket.on('error', reject);
    socket.end(bytes);
  });
}

/** The status line and the parsed JSON body of a raw HTTP answer. */
function parsed(answer: string): { statusLine: string; headers: string; body: unknown } {
  const at = answer.indexOf('\r\n\r\n');
  const head = answer.slice(0, at);
  return { statusLine: head.split('\r\n')[0], headers: head, body: JSON.parse(answer.slice(at + 4)) };
}

describe("what Node's HTTP parser refuses, in the documented shape (item 9)", () => {
  it('a malformed request line: 400 bad_request with a JSON body', async () => {
    const a = parsed(await raw('NOT HTTP AT ALL\r\n\r\n'));
    expect(a.statusLine).toBe('HTTP/1.1 400 Bad Request');
    expect(a.headers).toMatch(/content-type: application\/json/i);
    expect(a.body).toEqual({ error: { code: 'bad_request', message: 'malformed HTTP request' } });
  });

  it('a malformed header: 400', async () => {
    const a = parsed(await raw('GET /api/health HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n'));
    expect(a.statusLine).toBe('HTTP/1.1 400 Bad Request');
    expect(a.body).toMatchObject({ error: { code: 'bad_request' } });
  });

  it('headers over the limit: 431 too_large', async () => {
    const a = parsed(
      await raw(`GET /api/health HTTP/1.1\r\nHost: x\r\nX-Big: ${'b'.repeat(20_000)}\r\n\r\n`)
    );
    expect(a.statusLine).toBe('HTTP/1.1 431 Request Header Fields Too Large');
    expect(a.body).toEqual({ error: { code: 'too_large', message: 'request headers too large' } });
  });

  it('a request not received in time: 408 request_timeout (the listener on a real socket)', async () => {
    // Node only checks its request timeout every 30 s; the listener gets the error Node would pass it.
    const server = net.createServer((socket) => {
      const err = Object.assign(new Error('Request timeout'), { code: 'ERR_HTTP_REQUEST_TIMEOUT' });
      answerClientError()(err, socket);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const port = (server.address() as net.AddressInfo).port;
      const got = await new Promise<string>((resolve, reject) => {
        const c = net.connect(port, '127.0.0.1');
        let text = '';
        c.setEncoding('utf8');
        c.on('data', (d) => (text += d));
        c.on('end', () => resolve(text));
        c.on('error', reject);
      });
      const a = parsed(got);
      expect(a.statusLine).toBe('HTTP/1.1 408 Request Timeout');
      expect(a.body).toEqual({
        error: { code: 'request_timeout', message: 'the request was not received in time' },
      });
    } finally {
      server.close();
    }
  });

  it('a socket already gone or mid-answer is closed without writing', () => {
    const calls: string[] = [];
    const fake = (writable: boolean, headersSent = false) =>
      ({
        writable,
        _httpMessage: { headersSent },
        destroy: () => calls.push('destroy'),
        end: () => calls.push('end'),
      }) as unknown as net.Socket;
    const listener = answerClientError((code) => calls.push(code));
    listener(Object.assign(new Error('x'), { code: 'HPE_INVALID_METHOD' }), fake(false));
    listener(Object.assign(new Error('x'), { code: 'HPE_INVALID_METHOD' }), fake(true, true));
    listener(Object.assign(new Error('x'), { code: 'ECONNRESET' }), fake(true));
    expect(calls).toEqual(['destroy', 'destroy', 'destroy']);
    listener(Object.assign(new Error('x'), { code: 'HPE_INVALID_METHOD' }), fake(true));
    expect(calls.slice(3)).toEqual(['end', 'bad_request']);
  });

  it('GET /api/health with a broken JSON body still answers 200', async () => {
    const { port } = new URL(url);
    const answer = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = http.request(
        {
          port: Number(port),
          host: '127.0.0.1',
          path: '/api/health',
          method: 'GET',
          headers: { 'content-type': 'application/json', 'content-length': '11' },
        },
        (res) => {
          let body = '';
          res.setEncoding('utf8');
          res.on('data', (d) => (body += d));
          res.on('end', () => resolve({ status: res.statusCode!, body }));
        }
      );
      req.on('error', reject);
      req.end('{"broken": ');
    });
    expect(answer).toMatchObject({ status: 200 });
    expect(JSON.parse(answer.body)).toMatchObject({ source: 'demo' });
  });

  it('stays up and counts what it refused', async () => {
    expect((await fetch(url + '/api/health')).status).toBe(200);
    const text = await (await fetch(url + '/metrics')).text();
    expect(text).toMatch(/prescaler_errors_total\{code="too_large"\} [1-9]/);
  });
});

describe('a regex matcher that backtracks in JavaScript (item 5)', () => {
  const HOSTILE = '{__name__=~"(.*.*.*.*.*.*.*.*.*.*.*.*.*.*.*)X"}';

  it('is answered at once, and health answers while it runs', async () => {
    const t0 = Date.now();
    const [anomalies, health] = await Promise.all([
      post('/api/anomalies', { query: HOSTILE, end: END }),
      fetch(url + '/api/health').then((r) => r.status),
    ]);
    // No demo metric ends in X: nothing matches, as in Prometheus.
    expect(anomalies.status).toBe(200);
    expect(JSON.parse(anomalies.text)).toEqual({ series: [] });
    expect(health).toBe(200);
    expect(Date.now() - t0).toBeLessThan(2000); // backtracking took 20 s
  });

  it('matches with RE2 semantics: anchored, and a pattern RE2 refuses is a 400 naming it', async () => {
    const matching = await post('/api/forecast', {
      query: '{__name__=~"(?i)DEMO_CPU_.*", deployment="web"}',
      end: END,
    });
    expect(matching.status).toBe(200);
    expect(JSON.parse(matching.text).series).toHaveLength(1);
    const refused = await post('/api/anomalies', {
      query: 'demo_cpu_usage{deployment=~"(?=web)"}',
      end: END,
    });
    expect(refused.status).toBe(400);
    expect(refused.body.error).toMatchObject({
      code: 'bad_query',
      message: expect.stringMatching(/^invalid regular expression "\(\?=web\)" \(lookaround/),
    });
  });
});
