/**
 * `costAtEqualViolations` with its series replayed on worker threads, one series at a time per thread:
 * a file of a hundred per-VM series at ~50 settings each is minutes of replay on one core. The forecast
 * tracks are made by the caller (the LSTM runs there once per series); the replays are pure and come back
 * as plain figures, pooled in input order exactly as on one thread.
 */
import * as os from 'node:os';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { lowerThreadPriority, workerSource } from '../../worker-thread';
import {
  combineReplays,
  replaySeries,
  type FrontierInput,
  type FrontierOptions,
  type FrontierResult,
  type SeriesReplay,
} from './frontier';

const WORKER_KIND = 'prescaler-frontier-worker';

type Job = { id: number; input: FrontierInput; opts: FrontierOptions };
type Reply = { id: number; replay?: SeriesReplay; error?: string };

/** Threads used by default: one per core, at most 4. */
export function defaultThreads(): number {
  return Math.max(1, Math.min(4, os.availableParallelism?.() ?? os.cpus().length));
}

export async function costAtEqualViolationsInWorkers(
  inputs: readonly FrontierInput[],
  opts: FrontierOptions = {},
  threads = defaultThreads(),
  onSeries?: (done: number, name: string) => void
): Promise<FrontierResult> {
  if (threads <= 1 || inputs.length <= 1) {
    const replays = inputs.map((input, i) => {
      const r = replaySeries(input, opts);
      onSeries?.(i + 1, input.name);
      return r;
    });
    return combineReplays(inputs, replays, opts);
  }
  const replays: SeriesReplay[] = new Array(inputs.length);
  let next = 0;
  let done = 0;
  const workers = Array.from(
    { length: Math.min(threads, inputs.length) },
    () => new Worker(workerSource(__filename), { eval: true, workerData: { kind: WORKER_KIND } })
  );
  try {
    await Promise.all(
      workers.map(
        (w) =>
          new Promise<void>((resolve, reject) => {
            const post = () => {
              if (next >= inputs.length) return resolve();
              const id = next++;
              w.postMessage({ id, input: inputs[id], opts } satisfies Job);
            };
            w.on('message', (m: Reply) => {
              if (m.error !== undefined)
                return reject(new Error(`replay of ${inputs[m.id].name}: ${m.error}`));
              replays[m.id] = m.replay!;
              onSeries?.(++done, inputs[m.id].name);
              post();
            });
            w.on('error', reject);
            w.on('exit', (code) => {
              if (next < inputs.length || replays.some((r, i) => r === undefined && i < next))
                reject(new Error(`a replay worker exited (code ${code}) before its series were done`));
            });
            post();
          })
      )
    );
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
  return combineReplays(inputs, replays, opts);
}

if (!isMainThread && (workerData as { kind?: string } | null)?.kind === WORKER_KIND) {
  lowerThreadPriority();
  parentPort!.on('message', (job: Job) => {
    try {
      parentPort!.postMessage({ id: job.id, replay: replaySeries(job.input, job.opts) } satisfies Reply);
    } catch (e) {
      parentPort!.postMessage({ id: job.id, error: (e as Error).message } satisfies Reply);
    }
  });
}
