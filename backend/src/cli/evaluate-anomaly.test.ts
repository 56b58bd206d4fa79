import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { fitDetector } from '../anomaly/detector';
import type { FeatureName } from '../anomaly/features';
import type { BatchForecaster } from '../forecast/types';
import { loadAnomalyModel, type AnomalyModel } from '../anomaly/index';
import { mulberry32 } from '../series/random';
import { PUBLISHED_LIKELIHOOD } from '../anomaly/likelihood';
import { detectorScores, evaluateAnomaly, readLabelledSeries, trainedOn } from './evaluate-anomaly';
import { dataDigest } from '../data/loaders';
import type { LstmForecaster } from '../forecast/lstm';

const STEP = 300;
const N = 600;
const T0 = Date.UTC(2014, 1, 14, 14, 30) / 1000;
// One window per series: rows 400…439 of series a, 300…339 of series b.
const WINDOWS: Record<string, [number, number]> = { a: [400, 439], b: [300, 339] };

function values(seed: number): number[] {
  const r = mulberry32(seed);
  return Array.from({ length: N }, (_, i) => 40 + 5 * Math.sin((2 * Math.PI * i) / 288) + r());
}

const nabTime = (t: number) => new Date(t * 1000).toISOString().slice(0, 19).replace('T', ' ');

let dir: string;
let data: string;
let refs: string;
let model: AnomalyModel;

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'prescaler-eval-'));
  data = path.join(dir, 'labelled.csv');
  refs = path.join(dir, 'reference');
  const lines = ['series,timestamp,value,label'];
  const series: Record<string, number[]> = { a: values(1), b: values(2) };
  series.a[420] += 20;
  series.b[310] += 20;
  for (const [name, v] of Object.entries(series)) {
    const [lo, hi] = WINDOWS[name];
    v.forEach((x, i) => lines.push(`demo/${name},${T0 + i * STEP},${x},${i >= lo && i <= hi ? 1 : 0}`));
  }
  fs.writeFileSync(data, lines.join('\n') + '\n');
  const detectors: Record<string, (name: string, i: number) => number> = {
    null: () => 0.5,
    perfect: (name, i) => (i === WINDOWS[name][0] ? 1 : 0),
    late: (name, i) => (i === WINDOWS[name][1] ? 1 : 0),
  };
  for (const [det, score] of Object.entries(detectors)) {
    fs.mkdirSync(path.join(refs, det), { recursive: true });
    for (const name of ['a', 'b']) {
      const rows = ['timestamp,value,anomaly_score,label'];
      for (let i = 0; i < N; i++)
        rows.push(`${nabTime(T0 + i * STEP)},${series[name][i]},${score(name, i)},0`);
      fs.writeFileSync(path.join(refs, det, `${det}_${name}.csv`), rows.join('\n') + '\n');
    }
  }
  // A detector with results for one series only cannot be compared and is left out.
  fs.mkdirSync(path.join(refs, 'partial'));
  fs.copyFileSync(path.join(refs, 'null', 'null_a.csv'), path.join(refs, 'partial', 'partial_a.csv'));

  const fit = fitDetector([{ name: 'train', step: STEP, values: values(9) }], {
    features: { window: 24, shortWindow: 4, names: ['value', 'diff', 'zscore', 'spread_ratio'] },
    nTrees: 30,
    seed: 1,
  });
  model = { id: 'prescaler-iforest', version: 't', detector: fit.detector, metadata: {} as never };
});

afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('evaluateAnomaly', () => {
  it('scores our detector and every complete reference detector with one scorer', async () => {
    const log: string[] = [];
    const rows = await evaluateAnomaly({ data, referenceDir: refs, model, log: (m) => log.push(m) });
    const get = (d: string, p = 'standard') => rows.find((r) => r.detector === d && r.profile === p)!;
    expect(new Set(rows.map((r) => r.detector))).toEqual(
      new Set(['prescaler-iforest', 'null', 'perfect', 'late'])
    );
    expect(rows).toHaveLength(4 * 3);
    for (const p of ['standard', 'reward_low_FP_rate', 'reward_low_FN_rate']) {
      expect(get('null', p).score).toBeCloseTo(0, 9);
      expect(get('perfect', p).score).toBeCloseTo(100, 9);
    }
    // Two detections at window ends: each earns scaledSigmoid(−1/40)/scaledSigmoid(−1) = 0.063266;
    // null −2, perfect +2 → 100·(2·0.063266 + 2)/4 = 53.163.
    expect(get('late').score).toBeCloseTo(53.163, 3);
    // Two planted spikes in the middle of their windows: ours finds them.
    expect(get('prescaler-iforest').score).toBeGreaterThan(50);
    expect(log.join('\n')).toMatch(/skipping reference detector partial: no results file .*partial_b\.csv/);
  });

  it('reports the leave-one-file-out score and per-file raw scores beside the swept one', async () => {
    const rows = await evaluateAnomaly({ data, referenceDir: refs, model, log: () => undefined });
    const get = (d: string) => rows.find((r) => r.detector === d && r.profile === 'standard')!;
    // One threshold (1) is best on either file alone, so holding a file out changes nothing.
    expect(get('perfect').heldOut).toBeCloseTo(100, 9);
    expect(get('late').heldOut).toBeCloseTo(53.163, 3);
    expect(get('null').heldOut).toBeCloseTo(0, 9);
    for (const r of rows) {
      expect(r.heldOutBy).toBe('file');
      expect(r.perFile.map((f) => f.name)).toEqual(['demo/a', 'demo/b']);
      expect(r.perFile.reduce((s, f) => s + f.raw, 0)).toBeCloseTo(r.raw, 9);
    }
  });

  it('reads raw NAB CSVs labelled by a NAB windows JSON exactly as the canonical file', async () => {
    const raw = path.join(dir, 'raw');
    fs.mkdirSync(raw);
    const windows: Record<string, [string, string][]> = {};
    for (const [name] of Object.entries(WINDOWS)) {
      const [canonical] = readLabelledSeries(data).filter((x) => x.name === `demo/${name}`);
      const rows = ['timestamp,value', ...canonical.points.map(([t, v]) => `${nabTime(t)},${v}`)];
      fs.writeFileSync(path.join(raw, `${name}.csv`), rows.join('\n') + '\n');
      const [lo, hi] = WINDOWS[name];
      windows[`realDemo/${name}.csv`] = [[nabTime(T0 + lo * STEP), nabTime(T0 + hi * STEP)]];
    }
    const windowsFile = path.join(dir, 'combined_windows.json');
    fs.writeFileSync(windowsFile, JSON.stringify(windows));
    const quiet = { referenceDir: refs, model, log: () => undefined };
    const fromRaw = await evaluateAnomaly({ data: raw, windows: windowsFile, ...quiet });
    const fromCanonical = await evaluateAnomaly({ data, ...quiet });
    const scores = (rows: typeof fromRaw) => rows.map((r) => [r.detector, r.profile, r.score, r.heldOut]);
    expect(scores(fromRaw)).toEqual(scores(fromCanonical));
    await expect(evaluateAnomaly({ data: raw, ...quiet })).rejects.toThrow(/no labels.*--windows/);
  });

  describe("NAB's <category>/<file>.csv layout", () => {
    // Series a in category realDemo, b in artificialDemo: the same rows as the canonical file, laid out as
    // NAB lays out its corpus, with results in <detector>/<category>/<detector>_<file>.csv.
    let nested: string;
    let windowsFile: string;
    let nestedRefs: string;
    const CATEGORY: Record<string, string> = { a: 'realDemo', b: 'artificialDemo' };
    const layOut = (root: string, rows: (name: string) => Array<[number, number]>) => {
      for (const name of ['a', 'b']) {
        fs.mkdirSync(path.join(root, CATEGORY[name]), { recursive: true });
        const lines = ['timestamp,value', ...rows(name).map(([t, v]) => `${nabTime(t)},${v}`)];
        fs.writeFileSync(path.join(root, CATEGORY[name], `${name}.csv`), lines.join('\n') + '\n');
      }
    };
    const canonicalRows = (name: string) =>
      readLabelledSeries(data).find((x) => x.name === `demo/${name}`)!.points as Array<[number, number]>;
    beforeAll(() => {
      nested = path.join(dir, 'nested');
      layOut(nested, canonicalRows);
      const windows: Record<string, string[][]> = {};
      for (const name of ['a', 'b']) {
        const [lo, hi] = WINDOWS[name];
        windows[`${CATEGORY[name]}/${name}.csv`] = [[nabTime(T0 + lo * STEP), nabTime(T0 + hi * STEP)]];
      }
      windowsFile = path.join(dir, 'nested-windows.json');
      fs.writeFileSync(windowsFile, JSON.stringify(windows));
      nestedRefs = path.join(dir, 'nested-refs');
      for (const det of ['null', 'perfect', 'late', 'gappy']) {
        for (const name of ['a', 'b']) {
          const from = path.join(
            refs,
            det === 'gappy' ? 'late' : det,
            `${det === 'gappy' ? 'late' : det}_${name}.csv`
          );
          const lines = fs.readFileSync(from, 'utf8').trim().split('\n');
          // gappy lacks one row of a: it cannot be scored on the same rows and is left out.
          if (det === 'gappy' && name === 'a') lines.splice(200, 1);
          fs.mkdirSync(path.join(nestedRefs, det, CATEGORY[name]), { recursive: true });
          fs.writeFileSync(
            path.join(nestedRefs, det, CATEGORY[name], `${det}_${name}.csv`),
            lines.join('\n') + '\n'
          );
        }
      }
    });

    it('scores it swept as the canonical file, and holds out each category', async () => {
      const log: string[] = [];
      const rows = await evaluateAnomaly({
        data: nested,
        windows: windowsFile,
        referenceDir: nestedRefs,
        model,
        log: (m) => log.push(m),
      });
      expect(log.join('\n')).toMatch(
        /skipping reference detector gappy: .*gappy_a\.csv: no row for 2014-02-15T07:05:00Z \(row 200 of realDemo\/a\.csv\)/
      );
      const fromCanonical = await evaluateAnomaly({ data, referenceDir: refs, model, log: () => undefined });
      const swept = (rs: typeof rows) =>
        rs.filter((r) => r.detector !== 'partial').map((r) => [r.detector, r.profile, r.score]);
      expect(swept(rows)).toEqual(swept(fromCanonical));
      for (const r of rows) {
        expect(r.heldOutBy).toBe('category');
        expect(r.perCategory.map((c) => c.category)).toEqual(['artificialDemo', 'realDemo']);
        expect(r.perFile.map((f) => f.name)).toEqual(['artificialDemo/b.csv', 'realDemo/a.csv']);
      }
      const get = (d: string) => rows.find((r) => r.detector === d && r.profile === 'standard')!;
      // Threshold 1 is best on either category alone, so holding one out changes nothing.
      expect(get('perfect').heldOut).toBeCloseTo(100, 9);
      expect(get('late').heldOut).toBeCloseTo(53.163, 3);
      expect(get('late').perCategory.map((c) => c.score)).toEqual([
        expect.closeTo(53.163, 3),
        expect.closeTo(53.163, 3),
      ]);
    });

    it('gives our score to every row, a repeated time included', async () => {
      // The same corpus with a's row 50 written twice (in the probationary period, so NAB's figures stay
      // the same if, and only if, every later row keeps its own score).
      const repeated = path.join(dir, 'nested-repeated');
      layOut(repeated, (name) => {
        const rows = canonicalRows(name);
        return name === 'a' ? [...rows.slice(0, 51), rows[50], ...rows.slice(51)] : rows;
      });
      const once = await evaluateAnomaly({ data: nested, windows: windowsFile, model, onlyOurs: true });
      const twice = await evaluateAnomaly({ data: repeated, windows: windowsFile, model, onlyOurs: true });
      expect(twice.map((r) => [r.score, r.heldOut])).toEqual(once.map((r) => [r.score, r.heldOut]));
    });

    it('needs the windows', async () => {
      await expect(evaluateAnomaly({ data: nested, model })).rejects.toThrow(
        /NAB's <category>\/<file>\.csv layout has no labels in it; give NAB's --windows/
      );
    });
  });

  it('adds our detector with the anomaly likelihood when asked', async () => {
    const rows = await evaluateAnomaly({ data, model, likelihood: PUBLISHED_LIKELIHOOD, onlyOurs: true });
    expect(new Set(rows.map((r) => r.detector))).toEqual(
      new Set(['prescaler-iforest', 'prescaler-iforest+likelihood'])
    );
    const [a] = readLabelledSeries(data);
    const scores = await detectorScores(model, a, { likelihood: PUBLISHED_LIKELIHOOD });
    // Features need 24 points of past, the likelihood a day (288 rows) of scores: the first is row 311.
    expect(scores.slice(0, 311).every((x) => x === 0)).toBe(true);
    expect(scores[311]).toBeGreaterThan(0);
    expect(scores.every((x) => x >= 0 && x <= 1)).toBe(true);
  });

  it('refuses a file without labels or with non-finite values', async () => {
    const noLabels = path.join(dir, 'nolabels.csv');
    fs.writeFileSync(noLabels, `series,timestamp,value\ndemo/a,${T0},1\ndemo/a,${T0 + STEP},2\n`);
    await expect(evaluateAnomaly({ data: noLabels, model })).rejects.toThrow(/no labels.*--windows/);
    const nan = path.join(dir, 'nan.csv');
    fs.writeFileSync(
      nan,
      `series,timestamp,value,label\ndemo/a,${T0},NaN,0\ndemo/a,${T0 + STEP},2,1\ndemo/a,${T0 + 2 * STEP},3,0\n`
    );
    await expect(evaluateAnomaly({ data: nan, model })).rejects.toThrow(/demo\/a has a non-finite value/);
    const unlabelled = path.join(dir, 'zeros.csv');
    fs.writeFileSync(unlabelled, `series,timestamp,value,label\ndemo/a,${T0},1,0\ndemo/a,${T0 + STEP},2,0\n`);
    await expect(evaluateAnomaly({ data: unlabelled, model })).rejects.toThrow(/no labelled anomaly windows/);
  });

  it('scores a detector fitted on forecast residuals with the forecaster it is given', async () => {
    const { forecastResiduals } = await import('../anomaly/residuals');
    // Persistence at 600 s: a residual is the point against the mean of the previous 10-minute bucket.
    const persistence: BatchForecaster = {
      name: 'persistence',
      step: 600,
      horizons: 1,
      minHistory: 2,
      async predictBatch(windows) {
        return windows.map((w) => ({ mean: [w.values[w.values.length - 1]], lower: [], upper: [] }));
      },
    };
    const features = { window: 24, shortWindow: 4, names: ['diff', 'residual'] as FeatureName[] };
    const training = values(3);
    const residuals = await forecastResiduals(persistence, training, T0, STEP);
    const fit = fitDetector([{ name: 't', step: STEP, values: training, residuals }], {
      features,
      nTrees: 30,
      seed: 1,
    });
    const withResiduals: AnomalyModel = { ...model, detector: fit.detector };
    const rows = await evaluateAnomaly({
      data,
      model: withResiduals,
      forecaster: persistence,
      onlyOurs: true,
    });
    const standard = rows.find((r) => r.profile === 'standard')!;
    // The planted spikes stand far off the previous bucket: found.
    expect(standard.score).toBeGreaterThan(50);
    await expect(evaluateAnomaly({ data, model: withResiduals, onlyOurs: true })).rejects.toThrow(
      /fitted with forecast residuals: give it a forecaster/
    );
    // The residuals are what it scores: another forecaster (the window's middle) gives other scores.
    const middle: BatchForecaster = {
      ...persistence,
      async predictBatch(windows) {
        return windows.map(() => ({ mean: [0.5], lower: [], upper: [] }));
      },
    };
    const [a] = readLabelledSeries(data);
    const byPersistence = await detectorScores(withResiduals, a, { forecaster: persistence });
    const byMiddle = await detectorScores(withResiduals, a, { forecaster: middle });
    expect(Array.from(byMiddle)).not.toEqual(Array.from(byPersistence));
    const coarse: BatchForecaster = { ...persistence, step: 1000 };
    await expect(
      evaluateAnomaly({ data, model: withResiduals, forecaster: coarse, onlyOurs: true })
    ).rejects.toThrow(/step 300 s does not divide the forecaster's 1000 s/);
  });

  it('knows when the forecaster giving the residuals was trained on the data being scored', () => {
    const withTraining = (datasets: unknown) =>
      ({ metadata: { id: 'lstm', version: 'v', training: { datasets } } }) as unknown as LstmForecaster;
    const saw = withTraining([
      { name: 'other.csv', sha256: 'ab'.repeat(32) },
      { name: 'labelled.csv', sha256: dataDigest(data) },
    ]);
    expect(trainedOn(saw, data)).toBe('labelled.csv');
    expect(trainedOn(withTraining([{ name: 'other.csv', sha256: 'ab'.repeat(32) }]), data)).toBeUndefined();
    expect(trainedOn(withTraining(undefined), data)).toBeUndefined();
  });
});

// The figures the shipped detector's metadata (and the README) report, recomputed from the code and the
// data: the NAB corpus calibration. Runs only where the shared data is present (not in a clean clone).
const CORPUS = path.resolve(__dirname, '../../../../shared/data/nab-corpus');
(fs.existsSync(path.join(CORPUS, 'labels/combined_windows.json')) ? describe : describe.skip)(
  'the shipped detector on the NAB corpus (needs ../shared/data/nab-corpus)',
  () => {
    it('scores what its metadata records, at the threshold that calibration chose', async () => {
      const shipped = loadAnomalyModel(path.resolve(__dirname, '../../../models/anomaly'));
      const rows = await evaluateAnomaly({
        data: path.join(CORPUS, 'data'),
        windows: path.join(CORPUS, 'labels/combined_windows.json'),
        model: shipped,
        onlyOurs: true,
        log: () => {},
      });
      const recorded = (
        shipped.metadata.corpus as {
          results: Array<{ profile: string; score: number; heldOut: number; threshold: number }>;
        }
      ).results;
      expect(rows).toHaveLength(3);
      for (const r of rows) {
        const want = recorded.find((x) => x.profile === r.profile)!;
        expect(r.score).toBeCloseTo(want.score, 1);
        expect(r.heldOut).toBeCloseTo(want.heldOut, 1);
      }
      const standard = recorded.find((x) => x.profile === 'standard')!;
      expect(shipped.detector.threshold).toBe(Math.min(1, standard.threshold));
    }, 120_000);
  }
);
