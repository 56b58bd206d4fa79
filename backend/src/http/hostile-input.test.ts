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
