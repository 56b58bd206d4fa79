/**
 * Runs the what-if replay (`forecastTrack` + `simulateAll`) in a worker thread, so a months-long replay
 * never stalls the event loop that serves requests. The forecaster goes over as its TensorFlow.js model
 * artifacts plus metadata (the very model the caller holds, not a re-read of the models directory, which
 * may have changed since it was loaded); the points go over as one transferred Float64Array; the figures
 * come back as plain data, and a PrescalerError thrown in the worker is rethrown here with its code and
 * message. Aborting the signal terminates the worker.
 */
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { lowerThreadPriority, workerSource } from '../../worker-thread';
import { PrescalerError, type ErrorCode } from '../../errors';
import { LstmForecaster, type ForecasterMetadata } from '../../forecast/lstm';
import { initTf, tf } from '../../forecast/tf';
import type { Point } from '../../series/types';
import { forecastTrack } from './forecasts';
import { simulateAll, type SimulationOptions, type SimulationResult } from './simulate';

const WORKER_KIND = 'prescaler-simulate-worker';

/** The model as the worker rebuilds it: topology as JSON text (a structured clone trips tfjs' realm checks under jest). */
interface ModelPayload {
  topology: string;
  artifacts: Omit<tf.io.ModelArtifacts, 'modelTopology'>;
  metadata: ForecasterMetadata;
}

interface WorkerInput {
  kind: typeof WORKER_KIND;
  model: ModelPayload;
  /** [t0, v0, t1, v1, …]: one buffer to transfer instead of thousands of small arrays to clone. */
  points: Float64Array;
  options: Partial<SimulationOptions>;
}

type WorkerMessage =
  | { type: 'done'; result: SimulationResult }
  | { type: 'error'; code?: ErrorCode; message: string; stack?: string };

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

let live = 0;

/** Simulation workers started and not yet exited (tests and metrics: an aborted replay leaves none). */
export function liveSimulationWorkers(): number {
  return live;
}

export interface SimulateInWorkerOptions {
  /** Aborting terminates the worker; the promise rejects with the signal's reason. */
  signal?: AbortSignal;
  /** Called with the worker once it is spawned (tests). */
  onWorker?: (worker: Worker) => void;
}

/**
 * `simulateAll(points, await forecastTrack(points, forecaster), options)` in a worker thread. Resolves with
 * the same figures (no per-tick traces: `keepTraces` is refused, they are too big to be worth copying).
 */
export async function simulateInWorker(
  points: readonly Point[],
  forecaster: LstmForecaster,
  options: Partial<SimulationOptions>,
  opts: SimulateInWorkerOptions = {}
): Promise<SimulationResult> {
  const { signal } = opts;
  if (options.keepTraces) throw new RangeError('simulateInWorker does not return traces');
  signal?.throwIfAborted();
  const model = await modelPayload(forecaster);
  signal?.throwIfAborted();
  const flat = new Float64Array(points.length * 2);
  points.forEach(([t, v], i) => {
    flat[2 * i] = t;
    flat[2 * i + 1] = v;
  });
  const input: WorkerInput = { kind: WORKER_KIND, model, points: flat, options };
  const worker = new Worker(workerSource(__filename), {
    eval: true,
    workerData: input,
    transferList: [flat.buffer],
    // tsx's own flags (when running under it) are not needed: the bootstrap registers what it must.
    execArgv: [],
  });
  live++;
  worker.once('exit', () => live--);
  const outcome = new Promise<SimulationResult>((resolve, reject) => {
    let settled = false;
    const settle = (f: () => void) => {
      if (settled) return;
      settled = true;
      signal?.removeEventListener('abort', onAbort);
      f();
    };
    const onAbort = () => settle(() => reject(signal!.reason));
    signal?.addEventListener('abort', onAbort, { once: true });
    worker.on('message', (m: WorkerMessage) => {
      if (m.type === 'done') settle(() => resolve(m.result));
      else
        settle(() => {
          if (m.code) return reject(new PrescalerError(m.code, m.message));
          const err = new Error(`simulation worker: ${m.message}`);
          if (m.stack) err.stack = `${err.message}\n--- in the worker ---\n${m.stack}`;
          reject(err);
        });
    });
    worker.on('error', (e) => settle(() => reject(e)));
    worker.on('exit', (code) =>
      settle(() => reject(new Error(`simulation worker exited (code ${code}) before it finished`)))
    );
  });
  // Awaited below; this only keeps a throwing onWorker from leaving the rejection unhandled.
  outcome.catch(() => undefined);
  try {
    // Listening already, so an abort from inside onWorker is not missed.
    opts.onWorker?.(worker);
    return await outcome;
  } finally {
    // Done, failed or aborted alike: the thread goes (terminate() of an exited worker is a no-op).
    await worker.terminate();
  }
}

// ---- the worker side ----

async function runWorker(input: WorkerInput): Promise<void> {
  const port = parentPort!;
  lowerThreadPriority();
  try {
    await initTf();
    const model = await tf.loadLayersModel(
      tf.io.fromMemory({
        ...input.model.artifacts,
        modelTopology: JSON.parse(input.model.topology) as tf.io.ModelArtifacts['modelTopology'],
      })
    );
    const forecaster = new LstmForecaster(model, input.model.metadata);
    const flat = input.points;
    const points: Point[] = new Array(flat.length / 2);
    for (let i = 0; i < points.length; i++) points[i] = [flat[2 * i], flat[2 * i + 1]];
    const track = await forecastTrack(points, forecaster);
    const result = simulateAll(points, track, input.options);
    port.postMessage({ type: 'done', result } satisfies WorkerMessage);
  } catch (e) {
    const err = e as Error;
    port.postMessage({
      type: 'error',
      code: e instanceof PrescalerError ? e.code : undefined,
      message: err?.message ?? String(e),
      stack: err?.stack,
    } satisfies WorkerMessage);
  }
}

if (!isMainThread && (workerData as WorkerInput | undefined)?.kind === WORKER_KIND) {
  void runWorker(workerData as WorkerInput);
}
