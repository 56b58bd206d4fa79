import { once } from 'node:events';
import * as path from 'node:path';
import type { Worker } from 'node:worker_threads';
import { PrescalerError } from '../../errors';
import { loadForecaster, type LstmForecaster } from '../../forecast/lstm';
import type { Point } from '../../series/types';
import { forecastTrack } from './forecasts';
import { simulateAll } from './simulate';
import {
  liveSimulationWorkers,
  runningSimulations,
  SIMULATION_WORKER_IDLE_MS,
  simulateInWorker,
  stopSimulationWorker,
} from './simulate-worker';

// The shipped model: the worker must rebuild exactly the forecaster this thread holds.
const MODEL_DIR = path.join(__dirname, '..', '..', '..', '..', 'models', 'forecaster');
const START = 1_709_510_400;

/** Four days at 5 min of a daily cycle with a deterministic wobble, always positive. */
function trace(): Point[] {
  const pts: Point[] = [];
  for (let t = START; t <= START + 4 * 86400; t += 300) {
    pts.push([t, 5 + 3 * Math.sin((2 * Math.PI * t) / 86400) + 0.4 * Math.sin(t / 1700)]);
  }
  return pts;
}

const options = { peakReplicas: 12, capacityPerReplica: 1, startup: 120, maxReplicas: 30 };
let forecaster: LstmForecaster;

beforeAll(async () => {
  forecaster = await loadForecaster(MODEL_DIR);
}, 60_000);

afterAll(() => stopSimulationWorker());

/** Message ports holding the event loop open (a worker's own port among them while it is ref'd). */
const refdPorts = () => process.getActiveResourcesInfo().filter((r) => r === 'MessagePort').length;

it('gives the figures forecastTrack + simulateAll give on this thread', async () => {
  const points = trace();
  const here = simulateAll(points, await forecastTrack(points, forecaster), options);
  const there = await simulateInWorker(points, forecaster, options);
  expect(there.results).toEqual(here.results);
  expect(there.details).toEqual(here.details);
  expect(there.evaluatedHours).toBe(here.evaluatedHours);
  expect(there.demandScale).toBe(here.demandScale);
  expect(there.options).toEqual(here.options);
  // The trace is still the caller's (only a flat copy of it was transferred).
  expect(points).toHaveLength(4 * 288 + 1);
  expect(runningSimulations()).toBe(0);
}, 60_000);

it('keeps the worker warm: the next replay runs in the same thread', async () => {
  const threads: number[] = [];
  const onWorker = (w: Worker) => threads.push(w.threadId);
  const first = await simulateInWorker(trace(), forecaster, options, { onWorker });
  const second = await simulateInWorker(trace(), forecaster, options, { onWorker });
  expect(second.results).toEqual(first.results);
  expect(threads).toHaveLength(2);
  expect(threads[1]).toBe(threads[0]);
  expect(liveSimulationWorkers()).toBe(1);
  // Stopped, it is gone; the next replay starts a fresh one.
  await stopSimulationWorker();
  expect(liveSimulationWorkers()).toBe(0);
  await simulateInWorker(trace(), forecaster, options, { onWorker });
  expect(threads[2]).not.toBe(threads[0]);
}, 60_000);

it('gives a replay that comes while the warm worker is busy a worker of its own', async () => {
  const threads: number[] = [];
  const onWorker = (w: Worker) => threads.push(w.threadId);
  const [a, b] = await Promise.all([
    simulateInWorker(trace(), forecaster, options, { onWorker }),
    simulateInWorker(trace(), forecaster, options, { onWorker }),
  ]);
  expect(b.results).toEqual(a.results);
  expect(new Set(threads).size).toBe(2);
  // The extra one ended with its replay; the warm one stays.
  expect(liveSimulationWorkers()).toBe(1);
}, 60_000);

it("rethrows the worker's PrescalerError with its code and message", async () => {
  const points = trace();
  const err = await simulateInWorker(points, forecaster, { ...options, minReplicas: 0.5 }).catch((e) => e);
  expect(err).toBeInstanceOf(PrescalerError);
  expect(err).toMatchObject({ code: 'bad_request', message: 'minReplicas must be an integer ≥ 1' });
  // The same refusal simulateAll gives on this thread.
  expect(() => simulateAll(points, null, { ...options, minReplicas: 0.5 })).toThrow(err.message);
  expect(runningSimulations()).toBe(0);
  // A refusal does not cost the warm worker: the next replay still runs.
  await expect(simulateInWorker(points, forecaster, options)).resolves.toHaveProperty('results');
}, 60_000);

it('terminates the worker when the signal aborts while it runs', async () => {
  const ctrl = new AbortController();
  const messages: unknown[] = [];
  let exited: Promise<unknown[]> | undefined;
  const run = simulateInWorker(trace(), forecaster, options, {
    signal: ctrl.signal,
    onWorker: (w: Worker) => {
      w.on('message', (m) => messages.push(m));
      exited = once(w, 'exit');
      // As soon as the replay is posted: a replay takes far longer than the abort.
      ctrl.abort(new PrescalerError('bad_request', 'client closed the request'));
    },
  });
  await expect(run).rejects.toThrow('client closed the request');
  expect(exited).toBeDefined();
  await exited;
  expect(messages).toEqual([]); // stopped before it answered
  expect(liveSimulationWorkers()).toBe(0);
  expect(runningSimulations()).toBe(0);
}, 60_000);

it('does not start a worker for a signal already aborted', async () => {
  const ctrl = new AbortController();
  ctrl.abort(new Error('gone'));
  const onWorker = jest.fn();
  await expect(
    simulateInWorker(trace(), forecaster, options, { signal: ctrl.signal, onWorker })
  ).rejects.toThrow('gone');
  expect(onWorker).not.toHaveBeenCalled();
});

it('lets the process exit while the warm worker idles, not while it replays', async () => {
  await stopSimulationWorker();
  const base = refdPorts();
  let whileRunning = -1;
  await simulateInWorker(trace(), forecaster, options, { onWorker: () => (whileRunning = refdPorts()) });
  expect(liveSimulationWorkers()).toBe(1);
  // A CLI awaiting the replay must not exit under it; idle, the thread must not hold the process a minute.
  expect(whileRunning).toBe(base + 1);
  expect(refdPorts()).toBe(base);
}, 60_000);

it('starts a fresh worker for a replay that comes as the idle one is being ended', async () => {
  const timers = jest.spyOn(global, 'setTimeout');
  try {
    await simulateInWorker(trace(), forecaster, options);
    const idle = timers.mock.calls.filter(([, ms]) => ms === SIMULATION_WORKER_IDLE_MS).pop();
    expect(idle).toBeDefined();
    // The minute is up: the idle worker is terminating, and a replay arrives before it has exited.
    (idle![0] as () => void)();
    await expect(simulateInWorker(trace(), forecaster, options)).resolves.toHaveProperty('results');
  } finally {
    timers.mockRestore();
  }
}, 60_000);

it('leaves no unhandled rejection when onWorker throws and there is no signal', async () => {
  const unhandled: unknown[] = [];
  const onUnhandled = (e: unknown) => unhandled.push(e);
  process.on('unhandledRejection', onUnhandled);
  try {
    const err = await simulateInWorker(trace(), forecaster, options, {
      onWorker: () => {
        throw new Error('hook failed');
      },
    }).catch((e: Error) => e);
    expect(err).toMatchObject({ message: 'hook failed' });
    await until(() => liveSimulationWorkers() === 0);
    await new Promise((r) => setTimeout(r, 50));
    expect(unhandled).toEqual([]);
  } finally {
    process.off('unhandledRejection', onUnhandled);
  }
}, 60_000);

async function until(cond: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !cond(); i++) await new Promise((r) => setTimeout(r, 25));
  expect(cond()).toBe(true);
}
