import { mulberry32 } from '../series/random';
import { pointRows, rawScores } from './detector';
import { fitDetector } from './detector';
import {
  FOREST_WORKER_MIN_ROWS,
  ForestBatch,
  forestWorkerFailureCount,
  liveForestWorkers,
  scoreRows,
  stopForestWorkers,
} from './forest-workers';
import { IsolationForest } from './isolation-forest';

const WIDTH = 5;

function rows(n: number, seed: number): Float64Array {
  const r = mulberry32(seed);
  return Float64Array.from({ length: n * WIDTH }, () => r() * 4 - 2 + (r() < 0.01 ? 9 : 0));
}

function forest(seed: number): IsolationForest {
  const flat = rows(3000, seed + 100);
  const list = Array.from({ length: 3000 }, (_, i) => flat.subarray(i * WIDTH, (i + 1) * WIDTH));
  return new IsolationForest({ nTrees: 30, seed }).fit(list);
}

function inProcess(f: IsolationForest, flat: Float64Array): Float64Array {
  const list: Float64Array[] = [];
  for (let o = 0; o < flat.length; o += WIDTH) list.push(flat.subarray(o, o + WIDTH));
  return f.scoreMany(list);
}

const same = (a: Float64Array, b: Float64Array) => Buffer.from(a.buffer).equals(Buffer.from(b.buffer));

afterAll(() => stopForestWorkers());

describe('scoreRows', () => {
  it('gives the in-process scores bit for bit, on workers and in-process', async () => {
    const f = forest(1);
    const flat = rows(FOREST_WORKER_MIN_ROWS * 2 + 7, 2);
    const want = inProcess(f, flat);
    expect(same((await scoreRows(f, flat, WIDTH, { threads: 2 })).scores, want)).toBe(true);
    expect(liveForestWorkers()).toBeGreaterThan(0);
    expect(same((await scoreRows(f, flat, WIDTH, { threads: 1 })).scores, want)).toBe(true);
    // The caller's rows are left as they were (each worker gets a copy of its share).
    expect(same(flat, rows(FOREST_WORKER_MIN_ROWS * 2 + 7, 2))).toBe(true);
  });

  it('keeps each forest apart when several take turns', async () => {
    const forests = [forest(3), forest(4), forest(5)];
    const flat = rows(FOREST_WORKER_MIN_ROWS * 2, 6);
    for (const k of [0, 1, 0, 2, 0, 1]) {
      const got = (await scoreRows(forests[k], flat.slice(), WIDTH, { threads: 2 })).scores;
      expect(same(got, inProcess(forests[k], flat))).toBe(true);
    }
  });

  it('scores in-process what a worker that goes away leaves', async () => {
    const f = forest(7);
    const flat = rows(FOREST_WORKER_MIN_ROWS * 4, 8);
    const scoring = scoreRows(f, flat, WIDTH, { threads: 2 });
    await stopForestWorkers(); // terminates the workers while they hold the batch
    const left = await scoring;
    expect(same(left.scores, inProcess(f, flat))).toBe(true);
    expect(left.where).toBe('fallback');
    expect(same((await scoreRows(f, flat, WIDTH, { threads: 2 })).scores, inProcess(f, flat))).toBe(true);
    expect(forestWorkerFailureCount()).toBe(0); // stopped on purpose: not a failure
  });
});

describe('ForestBatch', () => {
  it('scores the rows of many series as scoring each on its own does', async () => {
    const r = mulberry32(9);
    const series = (n: number) =>
      Array.from(
        { length: n },
        (_, i) => 10 + 3 * Math.sin((2 * Math.PI * i) / 48) + r() + (i % 61 === 7 ? 8 : 0)
      );
    const { detector } = fitDetector([{ name: 's', step: 1800, values: series(600) }], {
      features: { window: 12, shortWindow: 3, names: ['value', 'diff', 'zscore', 'spread_ratio'] },
      nTrees: 25,
      seed: 3,
    });
    const batch = new ForestBatch();
    const inputs = Array.from({ length: 12 }, (_, k) => ({ values: series(300 + 10 * k), from: 5 * k }));
    const added = inputs.map(({ values, from }) => {
      const f = pointRows(detector, values, 1800, undefined, from);
      return { f, at: batch.add(f.rows) };
    });
    expect(batch.rows).toBeGreaterThan(FOREST_WORKER_MIN_ROWS);
    const { scores, where } = await batch.score(detector.forest, { threads: 2 });
    expect(where).toBe('workers');
    expect((await batch.score(detector.forest)).where).toBeUndefined(); // nothing left
    inputs.forEach(({ values, from }, k) => {
      const { f, at } = added[k];
      const raw = new Float64Array(values.length).fill(NaN);
      f.index.forEach((i, j) => (raw[i] = scores[at + j]));
      expect(same(raw, rawScores(detector, values, 1800, undefined, from))).toBe(true);
    });
    expect(batch.rows).toBe(0);
  });
});

describe('a worker that fails', () => {
  // Last in the file: after a failure, batches are scored in-process for a minute.
  it('has its rows scored in-process, and no worker is started again for a while', async () => {
    const f = forest(11);
    const flat = rows(FOREST_WORKER_MIN_ROWS * 2, 12);
    const broken = Object.assign(Object.create(Object.getPrototypeOf(f)), f) as IsolationForest;
    broken.toJSON = () => ({ format: 'not a forest' }) as unknown as ReturnType<IsolationForest['toJSON']>;
    await stopForestWorkers();
    const got = await scoreRows(broken, flat, WIDTH, { threads: 2 });
    expect(same(got.scores, inProcess(f, flat))).toBe(true);
    expect(got.where).toBe('fallback');
    expect(forestWorkerFailureCount()).toBeGreaterThan(0);
    await new Promise((r) => setTimeout(r, 50));
    expect(liveForestWorkers()).toBe(0);
    const later = await scoreRows(f, flat, WIDTH, { threads: 2 });
    expect(same(later.scores, inProcess(f, flat))).toBe(true);
    expect(later.where).toBe('in_process');
    expect(liveForestWorkers()).toBe(0);
  });
});
