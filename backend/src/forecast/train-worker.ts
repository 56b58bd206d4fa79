/**
 * Runs `trainLstm` in a worker thread so training never stalls the event loop that serves requests: the
 * window sets go over as transferred Float32Arrays, epochs come back as progress messages, and the trained
 * weights come back as TensorFlow.js model artifacts that the calling thread loads into its own model.
 */
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { lowerThreadPriority, workerSource } from '../worker-thread';
import { initTf, tf } from './tf';
import { trainLstm, type TrainOptions, type TrainResult } from './train';
import type { WindowSet } from './windows';

const WORKER_KIND = 'prescaler-train-worker';

type WorkerOptions = Omit<TrainOptions, 'onEpoch'>;
type EpochInfo = Parameters<NonNullable<TrainOptions['onEpoch']>>[0];

interface WorkerInput {
  kind: typeof WORKER_KIND;
  train: WindowSet;
  val: WindowSet;
  opts: WorkerOptions;
}

type WorkerMessage =
  | { type: 'epoch'; epoch: EpochInfo }
  // The topology travels as JSON text: a structured clone lands in the receiving realm's Object/Array, which
  // tfjs' `instanceof Array` checks reject under jest's sandbox.
  | { type: 'done'; topology: string; artifacts: tf.io.ModelArtifacts; result: Omit<TrainResult, 'model'> }
  | { type: 'error'; message: string; stack?: string };

/** A window set whose arrays own their buffers exactly, so transferring them moves nothing else. */
function ownBuffers(w: WindowSet): WindowSet {
  const own = (a: Float32Array) =>
    a.byteOffset === 0 && a.byteLength === a.buffer.byteLength ? a : a.slice();
  return {
    x: own(w.x),
    y: own(w.y),
    last: own(w.last),
    ...(w.weight ? { weight: own(w.weight) } : {}),
    count: w.count,
  };
}

export interface WorkerTrainOptions extends TrainOptions {
  /** Called with the worker once it runs (tests, benchmarks); terminate() on it aborts training. */
  onWorker?: (worker: Worker) => void;
}

/**
 * `trainLstm` in a worker thread. The arrays of `train` and `val` are transferred: they are detached
 * (length 0) here afterwards, so a caller that still needs them passes copies. Resolves with the trained
 * model loaded on this thread.
 */
export async function trainInWorker(
  train: WindowSet,
  val: WindowSet,
  options: WorkerTrainOptions
): Promise<TrainResult> {
  const { onEpoch, onWorker, ...opts } = options;
  await initTf();
  const input: WorkerInput = { kind: WORKER_KIND, train: ownBuffers(train), val: ownBuffers(val), opts };
  const transfer = [input.train, input.val].flatMap((w) =>
    [w.x, w.y, w.last, w.weight].filter((a) => a !== undefined).map((a) => a.buffer)
  ) as ArrayBuffer[];
  const worker = new Worker(workerSource(__filename), {
    eval: true,
    workerData: input,
    transferList: transfer,
    // tsx's own flags (when running under it) are not needed: the bootstrap registers what it must.
    execArgv: [],
  });
  onWorker?.(worker);
  const done = await new Promise<Extract<WorkerMessage, { type: 'done' }>>((resolve, reject) => {
    let settled = false;
    worker.on('message', (m: WorkerMessage) => {
      if (m.type === 'epoch') onEpoch?.(m.epoch);
      else if (m.type === 'done') {
        settled = true;
        resolve(m);
      } else {
        settled = true;
        const err = new Error(`training worker: ${m.message}`);
        if (m.stack) err.stack = `${err.message}\n--- in the worker ---\n${m.stack}`;
        reject(err);
      }
    });
    worker.on('error', (e) => {
      settled = true;
      reject(e);
    });
    worker.on('exit', (code) => {
      if (!settled) reject(new Error(`training worker exited (code ${code}) before it finished`));
    });
  });
  await worker.terminate();
  const model = await tf.loadLayersModel(
    tf.io.fromMemory({
      ...done.artifacts,
      modelTopology: JSON.parse(done.topology) as tf.io.ModelArtifacts['modelTopology'],
    })
  );
  return { ...done.result, model };
}

// ---- the worker side ----

async function runWorker(input: WorkerInput): Promise<void> {
  const port = parentPort!;
  lowerThreadPriority();
  try {
    const result = await trainLstm(input.train, input.val, {
      ...input.opts,
      onEpoch: (epoch) => port.postMessage({ type: 'epoch', epoch } satisfies WorkerMessage),
    });
    const { model, ...rest } = result;
    let artifacts: tf.io.ModelArtifacts | undefined;
    await model.save(
      tf.io.withSaveHandler(async (a) => {
        artifacts = a;
        return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
      })
    );
    model.dispose();
    const weights = artifacts!.weightData;
    const buffers = weights === undefined ? [] : Array.isArray(weights) ? weights : [weights];
    const { modelTopology, ...restArtifacts } = artifacts!;
    port.postMessage(
      {
        type: 'done',
        topology: JSON.stringify(modelTopology),
        artifacts: restArtifacts,
        result: rest,
      } satisfies WorkerMessage,
      buffers
    );
  } catch (e) {
    const err = e as Error;
    port.postMessage({
      type: 'error',
      message: err.message ?? String(e),
      stack: err.stack,
    } satisfies WorkerMessage);
  }
}

if (!isMainThread && (workerData as WorkerInput | undefined)?.kind === WORKER_KIND) {
  void runWorker(workerData as WorkerInput);
}
