/**
 * Input a careless or hostile client sends (issue 21's black-box findings), against the real server in
 * process on the demo source: each answered in the documented error shape with the documented status.
 */
import { startTestServer, type TestServer } from '../../../test/helpers/server';

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

    const path = '/api/' + 'p'.repeat(8000);
    const none = await fetch(url + path);
    expect(none.status).toBe(404);
    const noneText = await none.text();
    expectCut({ text: noneText, body: JSON.parse(noneText) }, path);
  });
});
