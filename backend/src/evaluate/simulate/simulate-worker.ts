/**
 * Runs the what-if replays in a worker thread, so a months-long replay never stalls the event loop that
 * serves requests. Two jobs: `simulateInWorker` (`forecastTrack` + `simulateAll`: one run of each policy)
 * and `frontierInWorker` (`forecastTrack` + `costAtEqualViolations`: every setting of each policy, DESIGN
 * §3's cost at equal violations). The forecaster goes over as its TensorFlow.js model
 * artifacts plus metadata (the very model the caller holds, not a re-read of the models directory, which
 * may have changed since it was loaded); the points go over as one transferred Float64Array; the figures
 * come back as plain data, and a PrescalerError thrown in the worker is rethrown here with its code and
 * message. The worker stays warm between replays (loading TensorFlow.js and the model costs it ~1 s, more
 * than a week's replay) and goes after a minute idle; aborting a replay terminates it.
 */
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { lowerThreadPriority, workerSource } from '../../worker-thread';
import { PrescalerError, type ErrorCode } from '../../errors';
import { LstmForecaster, type ForecasterMetadata } from '../../forecast/lstm';
import { initTf, tf } from '../../forecast/tf';
import type { Point } from '../../series/types';
import { forecastTrack } from './forecasts';
import {
  costAtEqualViolations,
  firstOriginNeeded,
  type FrontierOptions,
  type FrontierResult,
} from './frontier';
import { simulateAll, SIMULATION_DEFAULTS, type SimulationOptions, type SimulationResult } from './simulate';

const WORKER_KIND = 'prescaler-simulate-worker';

/** The model as the worker rebuilds it: topology as JSON text (a structured clone trips tfjs' realm checks under jest). */
interface ModelPayload {
  topology: string;
  artifacts: Omit<tf.io.ModelArtifacts, 'modelTopology'>;
  metadata: ForecasterMetadata;
}

/** One job, as the calling thread posts it. */
type RunMessage = {
  id: number;
  /** Sent when the worker does not hold this model yet. */
  model?: ModelPayload;
  /** [t0, v0, t1, v1, …]: one buffer to transfer instead of thousands of small arrays to clone. */
  points: Float64Array;
} & (
  | { kind: 'simulate'; options: Partial<SimulationOptions> }
  | {
      kind: 'frontier';
      name: string;
      /** Points before `points` that only feed the forecaster's windows (flat, as `points`). */
      history: Float64Array;
      options: FrontierOptions;
    }
);

type WorkerMessage =
  | { type: 'done'; id: number; result: SimulationResult | FrontierResult }
  | { type: 'error'; id: number; code?: ErrorCode; message: string; stack?: string };

// Serialised once per loaded model: every later replay reuses the same bytes.
const payloads = new WeakMap<LstmForecaster, Promise<ModelPayload>>();

function modelPayload(forecaster: LstmForecaster): Promise<ModelPayload> {
  let p = payloads.get(forecaster);
  if (!p) {
    p = (async () => {
      let saved: tf.io.ModelArtifacts | undefined;
      await forecaster.model.save(
        tf.io.withSaveHandler(async (a) => {
          saved = a;
          return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
        })
      );
      const { modelTopology, ...artifacts } = saved!;
      return { topology: JSON.stringify(modelTopology), artifacts, metadata: forecaster.metadata };
    })();
    p.catch(() => payloads.delete(forecaster));
    payloads.set(forecaster, p);
  }
  return p;
}

/** A warm worker goes after this long without a replay (it holds TensorFlow.js and a model, ~60 MB). */
export const SIMULATION_WORKER_IDLE_MS = 60_000;

interface Job {
  id: number;
  resolve: (r: SimulationResult | FrontierResult) => void;
  reject: (e: unknown) => void;
}

/** A worker thread and what it holds: the model it has loaded and the replay it runs. */
class SimulationWorker {
  readonly worker: Worker;
  /** The forecaster whose model the worker holds, once it has confirmed by finishing a replay. */
  model?: LstmForecaster;
  job?: Job;
  private idle?: NodeJS.Timeout;

  /** `onGone` runs as soon as the thread is going (ended, crashed or exited): no replay may be posted to it. */
  constructor(private readonly onGone: (w: SimulationWorker) => void) {
    this.worker = new Worker(workerSource(__filename), {
      eval: true,
      workerData: { kind: WORKER_KIND },
      // tsx's own flags (when running under it) are not needed: the bootstrap registers what it must.
      execArgv: [],
    });
    live++;
    this.worker.on('message', (m: WorkerMessage) => {
      const job = this.job;
      if (!job || m.id !== job.id) return;
      this.job = undefined;
      if (m.type === 'done') return job.resolve(m.result);
      this.model = undefined; // whatever failed, send the model again next time
      if (m.code) return job.reject(new PrescalerError(m.code, m.message));
      const err = new Error(`simulation worker: ${m.message}`);
      if (m.stack) err.stack = `${err.message}\n--- in the worker ---\n${m.stack}`;
      job.reject(err);
    });
    this.worker.on('error', (e) => {
      this.onGone(this);
      this.fail(e);
    });
    this.worker.once('exit', (code) => {
      live--;
      clearTimeout(this.idle);
      this.onGone(this);
      this.fail(new Error(`simulation worker exited (code ${code}) before it finished`));
    });
  }

  private fail(e: unknown): void {
    const job = this.job;
    this.job = undefined;
    job?.reject(e);
  }

  run(msg: RunMessage): Promise<SimulationResult | FrontierResult> {
    clearTimeout(this.idle);
    // Held while it replays, so a caller with nothing else pending is not cut off mid-replay.
    this.worker.ref();
    const transfer = [msg.points.buffer as ArrayBuffer];
    if (msg.kind === 'frontier') transfer.push(msg.history.buffer as ArrayBuffer);
    return new Promise<SimulationResult | FrontierResult>((resolve, reject) => {
      this.job = { id: msg.id, resolve, reject };
      this.worker.postMessage(msg, transfer);
    });
  }

  /** Ends the thread after SIMULATION_WORKER_IDLE_MS unless another replay comes first. */
  idleOut(): void {
    clearTimeout(this.idle);
    // An idle warm worker must not keep the process alive. (unref() must come after the 'message' listener:
    // adding one refs the worker's port again.)
    this.worker.unref();
    this.idle = setTimeout(() => void this.end(), SIMULATION_WORKER_IDLE_MS);
    this.idle.unref();
  }

  /** Ends the thread; it stops being the warm one at once, not only once it has exited. */
  end(): Promise<number> {
    this.onGone(this);
    return this.worker.terminate();
  }
}

let warm: SimulationWorker | undefined;
let live = 0;
let running = 0;
let nextId = 1;

/** Simulation worker threads started and not yet exited, warm ones included. */
export function liveSimulationWorkers(): number {
  return live;
}

/** Replays under way (tests and metrics: an aborted or finished replay counts no more). */
export function runningSimulations(): number {
  return running;
}

/** Ends the warm worker now (server shutdown, tests). */
export async function stopSimulationWorker(): Promise<void> {
  await warm?.end();
}

export interface SimulateInWorkerOptions {
  /** Aborting terminates the worker; the promise rejects with the signal's reason. */
  signal?: AbortSignal;
  /** Called with the worker once the replay is posted to it (tests). */
  onWorker?: (worker: Worker) => void;
}

/** [t0, v0, t1, v1, …] of the points, to transfer as one buffer. */
function flatten(points: readonly Point[]): Float64Array {
  const flat = new Float64Array(points.length * 2);
  points.forEach(([t, v], i) => {
    flat[2 * i] = t;
    flat[2 * i + 1] = v;
  });
  return flat;
}

function unflatten(flat: Float64Array): Point[] {
  const points: Point[] = new Array(flat.length / 2);
  for (let i = 0; i < points.length; i++) points[i] = [flat[2 * i], flat[2 * i + 1]];
  return points;
}

type JobBody =
  | Omit<Extract<RunMessage, { kind: 'simulate' }>, 'id' | 'model'>
  | Omit<Extract<RunMessage, { kind: 'frontier' }>, 'id' | 'model'>;

/**
 * Runs one job on the warm worker, or starts it; a job that comes while the warm one is busy gets a worker
 * of its own that ends with it. Aborting terminates the worker running the job.
 */
async function runJob(
  forecaster: LstmForecaster,
  body: () => JobBody,
  opts: SimulateInWorkerOptions
): Promise<SimulationResult | FrontierResult> {
  const { signal } = opts;
  signal?.throwIfAborted();
  running++;
  let w: SimulationWorker | undefined;
  let ownWorker = false;
  try {
    const model = await modelPayload(forecaster);
    signal?.throwIfAborted();
    const job = body();
    if (!warm) warm = new SimulationWorker((gone) => (warm = warm === gone ? undefined : warm));
    w = warm;
    if (w.job) {
      ownWorker = true;
      w = new SimulationWorker(() => undefined);
    }
    const msg: RunMessage = { ...job, id: nextId++, model: w.model === forecaster ? undefined : model };
    const done = w.run(msg);
    // Awaited below; this only keeps a throwing onWorker (no signal, so no other handler) from leaving
    // the rejection of a terminated replay unhandled.
    done.catch(() => undefined);
    const aborted = new Promise<never>((_, reject) => {
      if (!signal) return;
      const onAbort = () => reject(signal.reason);
      signal.addEventListener('abort', onAbort, { once: true });
      void done.finally(() => signal.removeEventListener('abort', onAbort)).catch(() => undefined);
    });
    // Listening already, so an abort from inside onWorker is not missed.
    opts.onWorker?.(w.worker);
    const result = await Promise.race([done, aborted]);
    w.model = forecaster;
    return result;
  } catch (e) {
    // Aborted or failed mid-replay: the thread may still be busy with it, so it goes.
    if (w && (w.job || signal?.aborted)) await w.end();
    throw e;
  } finally {
    running--;
    if (w && ownWorker) await w.worker.terminate();
    else if (w && w === warm) w.idleOut();
  }
}

/**
 * `simulateAll(points, await forecastTrack(points, forecaster), options)` in a worker thread. Resolves with
 * the same figures (no per-tick traces: `keepTraces` is refused, they are too big to be worth copying).
 * Uses the warm worker, or starts it; a replay that comes while the warm one is busy gets a worker of its
 * own that ends with it.
 */
export async function simulateInWorker(
  points: readonly Point[],
  forecaster: LstmForecaster,
  options: Partial<SimulationOptions>,
  opts: SimulateInWorkerOptions = {}
): Promise<SimulationResult> {
  if (options.keepTraces) throw new RangeError('simulateInWorker does not return traces');
  return (await runJob(
    forecaster,
    () => ({ kind: 'simulate', points: flatten(points), options }),
    opts
  )) as SimulationResult;
}

/** One series for `frontierInWorker`. */
export interface FrontierSeries {
  name: string;
  /** The points replayed and split 70/10/20 by time (docs/definitions.md "Cost at equal violations"). */
  points: readonly Point[];
  /**
   * Points before the first of `points`, only for the forecaster's windows: the forecasts at the start of
   * `points` see this history as the live loop would. Never replayed, never scored, never scaled by. Points
   * at or after the first of `points` are ignored.
   */
  history?: readonly Point[];
}

/**
 * Seconds between forecast origins for a loop evaluating every `interval` s: the interval where it divides
 * the forecaster's step (as `simulate --frontier` does), else their greatest common divisor, so every
 * evaluation still finds a forecast as fresh as the live loop's.
 */
export function originEvery(step: number, interval: number): number {
  let a = Math.round(step);
  let b = Math.max(1, Math.round(interval));
  while (b) [a, b] = [b, a % b];
  return a;
}

/**
 * `costAtEqualViolations([{name, points, track}], options)` in a worker thread, the track being
 * `forecastTrack(history ++ points, forecaster, {originEvery, from: firstOriginNeeded(points)})` as
 * `simulate --frontier` makes it (origins every evaluation interval, none before the replays need them):
 * the same figures, the same warm worker and abort as `simulateInWorker`. (`simulation.keepTraces` is refused.)
 */
export async function frontierInWorker(
  series: FrontierSeries,
  forecaster: LstmForecaster,
  options: FrontierOptions,
  opts: SimulateInWorkerOptions = {}
): Promise<FrontierResult> {
  if (options.simulation?.keepTraces) throw new RangeError('frontierInWorker does not return traces');
  let first = Infinity;
  for (const [t] of series.points) if (t < first) first = t;
  return (await runJob(
    forecaster,
    () => ({
      kind: 'frontier',
      name: series.name,
      points: flatten(series.points),
      history: flatten((series.history ?? []).filter(([t]) => t < first)),
      options,
    }),
    opts
  )) as FrontierResult;
}

// ---- the worker side ----

/** The worker's loop: one job per message, the model rebuilt when one comes with it. */
function serve(): void {
  const port = parentPort!;
  lowerThreadPriority();
  const ready = initTf();
  let forecaster: LstmForecaster | undefined;
  port.on('message', (msg: RunMessage) => {
    void (async () => {
      try {
        await ready;
        if (msg.model) {
          const model = await tf.loadLayersModel(
            tf.io.fromMemory({
              ...msg.model.artifacts,
              modelTopology: JSON.parse(msg.model.topology) as tf.io.ModelArtifacts['modelTopology'],
            })
          );
          forecaster?.model.dispose();
          forecaster = new LstmForecaster(model, msg.model.metadata);
        }
        if (!forecaster) throw new Error('no model was sent with the first replay');
        const points = unflatten(msg.points);
        let result: SimulationResult | FrontierResult;
        if (msg.kind === 'frontier') {
          const history = unflatten(msg.history);
          const interval = msg.options.simulation?.interval ?? SIMULATION_DEFAULTS.interval;
          const track = await forecastTrack(history.length ? [...history, ...points] : points, forecaster, {
            originEvery: originEvery(forecaster.step, interval),
            from: firstOriginNeeded(points),
          });
          result = costAtEqualViolations([{ name: msg.name, points, track }], msg.options);
        } else {
          result = simulateAll(points, await forecastTrack(points, forecaster), msg.options);
        }
        port.postMessage({ type: 'done', id: msg.id, result } satisfies WorkerMessage);
      } catch (e) {
        const err = e as Error;
        port.postMessage({
          type: 'error',
          id: msg.id,
          code: e instanceof PrescalerError ? e.code : undefined,
          message: err?.message ?? String(e),
          stack: err?.stack,
        } satisfies WorkerMessage);
      }
    })();
  });
}

if (!isMainThread && (workerData as { kind?: string } | undefined)?.kind === WORKER_KIND) serve();
