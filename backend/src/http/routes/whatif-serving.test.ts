/** POST /api/whatif beside other requests: the replay leaves the event loop free, runs one at a time, stops with its client. */
import { startTestServer, type TestServer } from '../../../../test/helpers/server';
import { PrescalerError } from '../../errors';
import { liveSimulationWorkers, runningSimulations } from '../../evaluate/simulate/simulate-worker';
import { SimulationSlot, WHATIF_MAX_QUEUED, WHATIF_RETRY_AFTER } from './whatif';

const END = 1_780_000_000;
const DAY = 86400;
// 76 days at the forecaster's 600 s step: ~11 000 points, the longest range the points cap allows, and
// seconds of CPU to replay — tens of seconds with the comparison at equal violations (every setting of
// each policy over the last 30 % of the range), more on a loaded machine.
const LONG = { target: 'web', start: END - 76 * DAY, end: END };
const SHORT = { target: 'web', start: END - 2 * DAY, end: END };

let harness: TestServer;
let url: string;

const post = (body: unknown, signal?: AbortSignal) =>
  fetch(`${url}/api/whatif`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
    signal,
  });

/** Polls until `ok()` holds; generous, since only the order of events matters here. */
async function until(ok: () => boolean, what: string, ms = 30_000): Promise<void> {
  const t0 = Date.now();
  while (!ok()) {
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

beforeAll(async () => {
  harness = await startTestServer({
    yaml: `targets:
  - name: web
    workload: {kind: Deployment, name: web}
    query: demo_cpu_usage{deployment="web"}
    capacityPerReplica: 0.5
    maxReplicas: 20
`,
    startLoop: false,
  });
  if (!harness.srv.models.forecaster)
    throw new Error(`the shipped forecaster did not load: ${harness.srv.models.forecasterError}`);
  url = harness.srv.url;
}, 60_000);

afterAll(() => harness?.close());

afterEach(() => until(() => runningSimulations() === 0, 'the replays to end'));

it('answers /api/health while a 76-day what-if replays', async () => {
  const order: string[] = [];
  const whatif = post(LONG).then(async (r) => {
    order.push('whatif');
    return { status: r.status, body: await r.json() };
  });
  // The replay is under way once its worker exists; the event loop must still be free to serve.
  await until(() => runningSimulations() > 0 && liveSimulationWorkers() > 0, 'the replay to start');
  for (let i = 0; i < 3; i++) {
    const health = await fetch(`${url}/api/health`);
    expect(health.status).toBe(200);
    order.push('health');
  }
  const r = await whatif;
  expect(r.status).toBe(200);
  expect(r.body.points).toBe(76 * 144 + 1);
  expect(r.body.results).toHaveLength(3);
  // Three health answers, all before the replay's: none waited for it.
  expect(order).toEqual(['health', 'health', 'health', 'whatif']);
}, 300_000);

it('stops the replay when its client goes away, and frees the slot', async () => {
  const ctrl = new AbortController();
  const gone = post(LONG, ctrl.signal).catch((e: Error) => e);
  await until(() => runningSimulations() > 0 && liveSimulationWorkers() > 0, 'the replay to start');
  ctrl.abort();
  expect(await gone).toMatchObject({ name: 'AbortError' });
  // The replay ends (its worker is terminated if it had started: simulate-worker.test.ts), and the next
  // what-if runs without waiting behind it.
  await until(() => runningSimulations() === 0, 'the aborted replay to end');
  const next = await post(SHORT);
  expect(next.status).toBe(200);
}, 300_000);

it(`runs one replay at a time, queues ${WHATIF_MAX_QUEUED} more and answers 429 beyond`, async () => {
  const first = new AbortController();
  const running = post(LONG, first.signal).catch((e: Error) => e);
  await until(() => runningSimulations() > 0 && liveSimulationWorkers() > 0, 'the first replay to start');
  // While it runs, 1 + WHATIF_MAX_QUEUED more arrive together: all but one of them wait, one is refused.
  const more = Array.from({ length: WHATIF_MAX_QUEUED + 1 }, () =>
    post(SHORT).then(async (r) => ({
      status: r.status,
      retryAfter: r.headers.get('retry-after'),
      body: await r.json(),
    }))
  );
  try {
    // Nothing else can answer while the first replay holds the slot: the first answer is the refusal.
    const refused = await Promise.race(more);
    expect(refused.status).toBe(429);
    expect(refused.retryAfter).toBe(String(WHATIF_RETRY_AFTER));
    expect(refused.body.error.code).toBe('rate_limited');
    expect(refused.body.error.message).toContain(
      `already running and ${WHATIF_MAX_QUEUED} more are waiting (at most 1 runs at a time, ${WHATIF_MAX_QUEUED} may wait)`
    );
    // An SRE sees the queue on /metrics.
    const metrics = await (await fetch(`${url}/metrics`)).text();
    expect(metrics).toContain('prescaler_whatif_simulations{state="running"} 1');
    expect(metrics).toContain(`prescaler_whatif_simulations{state="queued"} ${WHATIF_MAX_QUEUED}`);
  } finally {
    first.abort();
  }
  expect(await running).toMatchObject({ name: 'AbortError' });
  // The waiters get their turn once the first is gone.
  const statuses = (await Promise.all(more)).map((r) => r.status).sort();
  expect(statuses).toEqual([...Array(WHATIF_MAX_QUEUED).fill(200), 429]);
  const after = await (await fetch(`${url}/metrics`)).text();
  expect(after).toContain('prescaler_whatif_simulations{state="running"} 0');
  expect(after).toContain('prescaler_whatif_simulations{state="queued"} 0');
}, 300_000);

describe('SimulationSlot', () => {
  it('hands the slot over in arrival order and refuses past the queue bound', async () => {
    const slot = new SimulationSlot(2);
    const order: string[] = [];
    const releaseA = await slot.acquire();
    const b = slot.acquire().then((release) => (order.push('b'), release));
    const c = slot.acquire().then((release) => (order.push('c'), release));
    await expect(slot.acquire()).rejects.toMatchObject({ code: 'rate_limited' });
    expect(slot.load).toEqual({ running: 1, queued: 2 });
    releaseA();
    releaseA(); // a second release is a no-op, not a second hand-over
    const releaseB = await b;
    expect(order).toEqual(['b']);
    expect(slot.load).toEqual({ running: 1, queued: 1 });
    releaseB();
    (await c)();
    expect(order).toEqual(['b', 'c']);
    expect(slot.load).toEqual({ running: 0, queued: 0 });
  });

  it('drops a waiter whose signal aborts, and refuses one already aborted', async () => {
    const slot = new SimulationSlot(1);
    const release = await slot.acquire();
    const ctrl = new AbortController();
    const waiting = slot.acquire(ctrl.signal);
    expect(slot.load.queued).toBe(1);
    ctrl.abort(new PrescalerError('bad_request', 'client closed the request'));
    await expect(waiting).rejects.toThrow('client closed the request');
    expect(slot.load).toEqual({ running: 1, queued: 0 });
    release();
    expect(slot.load.running).toBe(0);
    await expect(slot.acquire(ctrl.signal)).rejects.toThrow('client closed the request');
    expect(slot.load.running).toBe(0);
  });
});
