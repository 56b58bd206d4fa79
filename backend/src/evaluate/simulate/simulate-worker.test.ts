import { once } from 'node:events';
import * as path from 'node:path';
import type { Worker } from 'node:worker_threads';
import { PrescalerError } from '../../errors';
import { loadForecaster, type LstmForecaster } from '../../forecast/lstm';
import type { Point } from '../../series/types';
import { forecastTrack } from './forecasts';
import { costAtEqualViolations, firstOriginNeeded, sliceTimes, type FrontierOptions } from './frontier';
import { simulateAll } from './simulate';
import {
  frontierInWorker,
  liveSimulationWorkers,
  originEvery,
  runningSimulations,
  SIMULATION_WORKER_IDLE_MS,
  simulateInWorker,
  stopSimulationWorker,
} from './simulate-worker';

// The shipped model: the worker must rebuild exactly the forecaster this thread holds.
const MODEL_DIR = path.join(__dirname, '..', '..', '..', '..', 'models', 'forecaster');
const START = 1_709_510_400;

/** Four days at 5 min (or from..to) of a daily cycle with a deterministic wobble, always positive. */
function trace(from = START, to = START + 4 * 86400): Point[] {
  const pts: Point[] = [];
  for (let t = from; t <= to; t += 300) {
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

describe('frontierInWorker', () => {
  // A small sweep: the worker must give what costAtEqualViolations gives, not a full sweep's runtime.
  const frontierOptions: FrontierOptions = {
    simulation: options,
    hpaTargets: [0.6, 0.7, 0.8],
    settings: [
      { quantile: 'upper', utilization: 0.7, hpaTarget: 0.7 },
      { quantile: 'mean', utilization: 0.9, hpaTarget: 0.9 },
    ],
    resamples: 200,
  };
  // Three days before the trace: only the forecaster reads them.
  const history = () => trace(START - 3 * 86400, START - 300);

  it('gives the comparison costAtEqualViolations gives on this thread, forecasts warmed on the history', async () => {
    const points = trace();
    // The track as simulate --frontier makes it: origins every evaluation interval (60 s), from where replays need them.
    const track = await forecastTrack([...history(), ...points], forecaster, {
      originEvery: 60,
      from: firstOriginNeeded(points),
    });
    const here = costAtEqualViolations([{ name: 'web', points, track }], frontierOptions);
    const there = await frontierInWorker(
      { name: 'web', points, history: history() },
      forecaster,
      frontierOptions
    );
    expect(there).toEqual(here);
    expect(there.comparison.default.hpa.setting).toEqual({ targetUtilization: 0.7 });
    // The 70/10/20 split is of `points` alone: the history is neither replayed nor scored.
    const times = sliceTimes(points);
    expect(times.start).toBe(START);
    expect(there.evaluatedHours).toBeCloseTo((times.end - times.test) / 3600, 1);
    expect(there.validationHours).toBeCloseTo((times.test - times.validation) / 3600, 1);
    expect(runningSimulations()).toBe(0);
  }, 120_000);

  it('feeds the history to the forecaster only: without it the forecasts, not the split, change', async () => {
    const points = trace();
    const withHistory = await frontierInWorker(
      { name: 'web', points, history: history() },
      forecaster,
      frontierOptions
    );
    const without = await frontierInWorker({ name: 'web', points }, forecaster, frontierOptions);
    const track = await forecastTrack(points, forecaster, {
      originEvery: 60,
      from: firstOriginNeeded(points),
    });
    expect(without).toEqual(costAtEqualViolations([{ name: 'web', points, track }], frontierOptions));
    expect(without.evaluatedHours).toBe(withHistory.evaluatedHours);
    expect(without.comparison.default.hpa).toEqual(withHistory.comparison.default.hpa);
    expect(without.frontier.prescaler).not.toEqual(withHistory.frontier.prescaler);
    // History points at or after the first replayed point are not history: they change nothing.
    const overlapping = [...history(), ...points.slice(0, 100).map(([t, v]): Point => [t, v * 3])];
    const same = await frontierInWorker(
      { name: 'web', points, history: overlapping },
      forecaster,
      frontierOptions
    );
    expect(same).toEqual(withHistory);
  }, 180_000);

  it('shares the warm worker with simulateInWorker', async () => {
    const threads: number[] = [];
    const onWorker = (w: Worker) => threads.push(w.threadId);
    await simulateInWorker(trace(), forecaster, options, { onWorker });
    await frontierInWorker({ name: 'web', points: trace() }, forecaster, frontierOptions, { onWorker });
    await simulateInWorker(trace(), forecaster, options, { onWorker });
    expect(threads).toHaveLength(3);
    expect(new Set(threads).size).toBe(1);
    expect(liveSimulationWorkers()).toBe(1);
  }, 120_000);

  it("rethrows the frontier's PrescalerError: a series with nothing to split", async () => {
    // One point: no span to split into warm-up, validation and test.
    const err = await frontierInWorker(
      { name: 'web', points: trace().slice(0, 1) },
      forecaster,
      frontierOptions
    ).catch((e) => e);
    expect(err).toBeInstanceOf(PrescalerError);
    expect(err.code).toBe('insufficient_history');
    expect(err.message).toMatch(
      /no series has a validation and a test slice to score: web: fewer than two finite points/
    );
    const bad = await frontierInWorker({ name: 'web', points: trace() }, forecaster, {
      ...frontierOptions,
      hpaTargets: [0.5],
    }).catch((e) => e);
    expect(bad).toMatchObject({
      code: 'bad_request',
      message: 'the HPA targets must include the default 0.7',
    });
    // Refusals leave the warm worker usable.
    await expect(
      frontierInWorker({ name: 'web', points: trace() }, forecaster, frontierOptions)
    ).resolves.toHaveProperty('comparison');
    expect(runningSimulations()).toBe(0);
  }, 120_000);

  it('refuses traces, and terminates the worker when the signal aborts while it runs', async () => {
    await expect(
      frontierInWorker({ name: 'web', points: trace() }, forecaster, {
        simulation: { ...options, keepTraces: true },
      })
    ).rejects.toThrow('frontierInWorker does not return traces');
    const ctrl = new AbortController();
    const messages: unknown[] = [];
    let exited: Promise<unknown[]> | undefined;
    const run = frontierInWorker(
      { name: 'web', points: trace(), history: history() },
      forecaster,
      frontierOptions,
      {
        signal: ctrl.signal,
        onWorker: (w: Worker) => {
          w.on('message', (m) => messages.push(m));
          exited = once(w, 'exit');
          ctrl.abort(new PrescalerError('bad_request', 'client closed the request'));
        },
      }
    );
    await expect(run).rejects.toThrow('client closed the request');
    await exited;
    expect(messages).toEqual([]);
    expect(liveSimulationWorkers()).toBe(0);
    expect(runningSimulations()).toBe(0);
  }, 60_000);
});

describe('originEvery', () => {
  it('is the evaluation interval where it divides the step, else the greatest common divisor', () => {
    expect(originEvery(600, 60)).toBe(60);
    expect(originEvery(600, 600)).toBe(600);
    expect(originEvery(600, 90)).toBe(30);
    expect(originEvery(600, 900)).toBe(300);
    expect(originEvery(600, 0)).toBe(1);
  });
});
