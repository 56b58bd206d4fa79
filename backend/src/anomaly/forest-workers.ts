/**
 * Isolation Forest scoring on worker threads, for answers with many rows: the first read of 1000 series
 * sends ~217 000 feature rows through 200 trees, ~2 s of walking on one thread. `ForestBatch` gathers the
 * rows of every series of an answer (anomaly/index.ts ScoreBatch), and `score()` splits them across
 * one worker per core, so the walk uses every core and the event loop stays free for health checks,
 * metrics and other requests meanwhile. Each worker keeps the forests it was sent (by id), so a forest
 * crosses to a worker once. Scores are the forest's own `scoreMany`, row by row in tree order: the same
 * bits wherever a row is scored. A batch too small to be worth the round trip, a forest the workers cannot
 * take, or a worker that fails is scored in-process instead.
 */
import * as os from 'node:os';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { IsolationForest } from './isolation-forest';
import { workerSource } from '../worker-thread';

const WORKER_KIND = 'prescaler-forest-worker';

/** Fewer rows than this are scored in-process: ~10 ms of walking, less than a round trip is worth. */
export const FOREST_WORKER_MIN_ROWS = 2048;
/** A worker goes after this long without a batch. */
export const FOREST_WORKER_IDLE_MS = 60_000;
/** Forests a worker keeps (the served one, and one being swapped in). */
const FORESTS_PER_WORKER = 2;
/** After a worker fails (not stopped), batches are scored in-process for this long before workers are tried again. */
export const FOREST_WORKER_COOLDOWN_MS = 60_000;
/** At most this many workers, whatever the core count says (it may not count a container's CPU quota). */
const MAX_WORKERS = 4;

/** A worker ended on purpose (stopForestWorkers, idle): not a failure. */
class WorkerStopped extends Error {}

type ToWorker =
  | { type: 'forest'; forest: number; json: string }
  | { type: 'score'; job: number; forest: number; rows: Float64Array; width: number };
type FromWorker =
  { type: 'scores'; job: number; scores: Float64Array } | { type: 'error'; job: number; message: string };

/** Rows `from` … `to` − 1 of row-major `flat` (`width` values each), as views into it. */
function rowViews(flat: Float64Array, width: number, from: number, to: number): Float64Array[] {
  const rows: Float64Array[] = [];
  for (let r = from; r < to; r++) rows.push(flat.subarray(r * width, (r + 1) * width));
  return rows;
}

/** The worker's side: forests by id, and scoring of flat row-major rows. */
function workerMain(): void {
  const forests = new Map<number, IsolationForest>();
  parentPort!.on('message', (m: ToWorker) => {
    if (m.type === 'forest') {
      forests.set(m.forest, IsolationForest.fromJSON(JSON.parse(m.json)));
      while (forests.size > FORESTS_PER_WORKER) forests.delete(forests.keys().next().value!);
      return;
    }
    try {
      const forest = forests.get(m.forest);
      if (!forest) throw new Error(`no forest ${m.forest} in this worker`);
      const scores = forest.scoreMany(rowViews(m.rows, m.width, 0, m.rows.length / m.width));
      parentPort!.postMessage({ type: 'scores', job: m.job, scores } satisfies FromWorker, [
        scores.buffer as ArrayBuffer,
      ]);
    } catch (e) {
      parentPort!.postMessage({
        type: 'error',
        job: m.job,
        message: (e as Error).message,
      } satisfies FromWorker);
    }
  });
}

if (!isMainThread && (workerData as { kind?: string } | null)?.kind === WORKER_KIND) workerMain();

interface Pending {
  resolve: (s: Float64Array) => void;
  reject: (e: Error) => void;
}

class ForestWorker {
  readonly worker: Worker;
  /** Forest ids sent to this worker, oldest first. */
  private readonly sent: number[] = [];
  private readonly pending = new Map<number, Pending>();
  private idle?: NodeJS.Timeout;
  private stopping = false;

  constructor(private readonly onGone: (w: ForestWorker) => void) {
    this.worker = new Worker(workerSource(__filename), {
      eval: true,
      workerData: { kind: WORKER_KIND },
      execArgv: [],
    });
    this.worker.on('message', (m: FromWorker) => {
      const p = this.pending.get(m.job);
      if (!p) return;
      this.pending.delete(m.job);
      if (m.type === 'scores') p.resolve(m.scores);
      else p.reject(new Error(`forest worker: ${m.message}`));
      if (this.pending.size === 0) this.rest();
    });
    const gone = (e: Error) => {
      clearTimeout(this.idle);
      this.onGone(this);
      for (const p of this.pending.values()) p.reject(e);
      this.pending.clear();
    };
    this.worker.on('error', gone);
    this.worker.on('messageerror', gone);
    this.worker.once('exit', (code) =>
      gone(
        this.stopping
          ? new WorkerStopped('forest worker stopped')
          : new Error(`forest worker exited (code ${code})`)
      )
    );
    this.rest();
  }

  score(job: number, forest: { id: number; json: () => string }, rows: Float64Array, width: number) {
    return new Promise<Float64Array>((resolve, reject) => {
      try {
        if (!this.sent.includes(forest.id)) {
          this.post({ type: 'forest', forest: forest.id, json: forest.json() });
          this.sent.push(forest.id);
          while (this.sent.length > FORESTS_PER_WORKER) this.sent.shift();
        }
        this.post({ type: 'score', job, forest: forest.id, rows, width }, [rows.buffer as ArrayBuffer]);
      } catch (e) {
        return reject(e);
      }
      this.pending.set(job, { resolve, reject });
      // Held while it scores, so a caller with nothing else pending is not cut off.
      clearTimeout(this.idle);
      this.worker.ref();
    });
  }

  private post(m: ToWorker, transfer: ArrayBuffer[] = []): void {
    this.worker.postMessage(m, transfer);
  }

  /** Idle: it must not keep the process alive, and it ends after FOREST_WORKER_IDLE_MS. */
  private rest(): void {
    this.worker.unref();
    clearTimeout(this.idle);
    this.idle = setTimeout(() => void this.end(), FOREST_WORKER_IDLE_MS);
    this.idle.unref();
  }

  end(): Promise<number> {
    this.stopping = true;
    this.onGone(this);
    return this.worker.terminate();
  }
}

const workers: ForestWorker[] = [];
let nextJob = 1;
let nextForest = 1;
let coolUntil = 0;
const forestIds = new WeakMap<IsolationForest, { id: number; json: () => string }>();

/** One worker per core the process may use. */
export function forestWorkerCount(): number {
  return Math.max(1, Math.min(MAX_WORKERS, os.availableParallelism?.() ?? os.cpus().length));
}

let forestWorkerFailures = 0;

/** Batches a worker failed to score (they were scored in-process). */
export function forestWorkerFailureCount(): number {
  return forestWorkerFailures;
}

/** Worker threads running now (tests). */
export function liveForestWorkers(): number {
  return workers.length;
}

/** Ends every forest worker (server shutdown, tests). */
export async function stopForestWorkers(): Promise<void> {
  await Promise.all(workers.slice().map((w) => w.end()));
}

function idOf(forest: IsolationForest): { id: number; json: () => string } {
  let e = forestIds.get(forest);
  if (!e) {
    let text: string | undefined;
    e = { id: nextForest++, json: () => (text ??= JSON.stringify(forest.toJSON())) };
    forestIds.set(forest, e);
  }
  return e;
}

function worker(k: number): ForestWorker {
  while (workers.length <= k) {
    workers.push(
      new ForestWorker((gone) => {
        const i = workers.indexOf(gone);
        if (i >= 0) workers.splice(i, 1);
      })
    );
  }
  return workers[k];
}

/**
 * `forest.scoreMany` of the rows of `flat` (row-major, `width` values each), split across the workers.
 * What a failing worker held is scored in-process, and so is everything for FOREST_WORKER_COOLDOWN_MS
 * after (a worker that cannot start or load the forest is not started again for every request);
 * `threads: 1` scores in-process.
 */
export async function scoreRows(
  forest: IsolationForest,
  flat: Float64Array,
  width: number,
  opts: { threads?: number } = {}
): Promise<{ scores: Float64Array; where: ScoredWhere }> {
  const n = flat.length / width;
  const threads = Math.min(opts.threads ?? forestWorkerCount(), Math.ceil(n / (FOREST_WORKER_MIN_ROWS / 2)));
  const inProcess = (from: number, to: number) => forest.scoreMany(rowViews(flat, width, from, to));
  if (threads <= 1 || n < FOREST_WORKER_MIN_ROWS || Date.now() < coolUntil)
    return { scores: inProcess(0, n), where: 'in_process' };
  const out = new Float64Array(n);
  let where: ScoredWhere = 'workers';
  const per = Math.ceil(n / threads);
  const forestId = idOf(forest);
  await Promise.all(
    Array.from({ length: threads }, async (_, k) => {
      const from = k * per;
      const to = Math.min(n, from + per);
      if (from >= to) return;
      let scores: Float64Array;
      try {
        // A copy: the chunk's buffer moves to the worker.
        scores = await worker(k).score(nextJob++, forestId, flat.slice(from * width, to * width), width);
      } catch (e) {
        if (!(e instanceof WorkerStopped)) {
          coolUntil = Date.now() + FOREST_WORKER_COOLDOWN_MS;
          forestWorkerFailures++;
        }
        where = 'fallback';
        scores = inProcess(from, to);
      }
      out.set(scores, from);
    })
  );
  return { scores: out, where };
}

/** Where a batch was scored: on the workers, in-process (small, or workers cooling down), or partly in-process after a worker failed or was stopped. */
export type ScoredWhere = 'workers' | 'in_process' | 'fallback';

/**
 * Feature rows of many segments, scored together: `add` takes a segment's rows and says where their scores
 * will be in what `score` returns; `score` runs every row added through the forest, in the order added.
 */
export class ForestBatch {
  private readonly parts: Float64Array[][] = [];
  private count = 0;

  get rows(): number {
    return this.count;
  }

  /** Adds rows to score; returns the index of the first of them in `score()`'s scores. */
  add(rows: Float64Array[]): number {
    const at = this.count;
    if (rows.length === 0) return at;
    this.parts.push(rows);
    this.count += rows.length;
    return at;
  }

  /**
   * The scores of the rows gathered, in the order added, and where they were scored (undefined when there
   * were none). The batch is empty again after.
   */
  async score(
    forest: IsolationForest,
    opts: { threads?: number } = {}
  ): Promise<{ scores: Float64Array; where: ScoredWhere | undefined }> {
    if (this.count === 0) return { scores: new Float64Array(0), where: undefined };
    const width = this.parts[0][0].length;
    const flat = new Float64Array(this.count * width);
    let r = 0;
    for (const p of this.parts) for (const row of p) flat.set(row, width * r++);
    this.parts.length = 0;
    this.count = 0;
    return scoreRows(forest, flat, width, opts);
  }
}
