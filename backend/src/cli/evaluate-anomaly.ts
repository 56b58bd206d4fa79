/**
 * NAB-scores anomaly detectors on a labelled corpus: our shipped detector (named by its model id,
 * `prescaler-…`) and every detector whose NAB result CSVs sit under `--reference-dir DIR/<detector>/`,
 * all on the same rows with the same scorer (scoreCorpus, backend/src/evaluate/nab.ts). Beside NAB's
 * score (one threshold swept over all files) it prints the held-out score: each file at the threshold
 * best on the files outside its category (leave one category out), or outside itself when the data has
 * one category. `--likelihood` adds our detector with the anomaly likelihood post-processing (anomaly/
 * likelihood.ts) as a second row; `--per-file` and `--per-category` break the scores down. A detector
 * fitted with the `residual` feature is scored with the residuals of the forecaster in `--forecaster DIR`
 * (default models/forecaster).
 *
 * The data is NAB's corpus as NAB lays it out (`--data DIR` of `<category>/<file>.csv` with `--windows
 * combined_windows.json`, results in `<detector>/<category>/<detector>_<file>.csv`), a flat directory of
 * NAB CSVs with `--windows` (one category), or a labelled canonical CSV (one category).
 *
 *   npm run -s evaluate:anomaly -- --data FILE|DIR [--windows FILE] [--reference-dir DIR] [--model DIR]
 *       [--forecaster DIR] [--likelihood [--likelihood-short-window N]] [--per-file] [--per-category] [--json]
 */
import * as fs from 'fs';
import * as path from 'path';
import type { LabelledSeries } from '../data/canonical';
import { dataDigest, loadSeriesFile } from '../data/loaders';
import { resample } from '../series/resample';
import { medianSpacing } from '../series/time';
import { scoreValues } from '../anomaly/detector';
import { rowScores } from '../evaluate/anomaly-corpus';
import { minimumPoints } from '../anomaly/features';
import { forecastResiduals, residualsAvailable } from '../anomaly/residuals';
import { loadForecaster, type LstmForecaster } from '../forecast/lstm';
import type { BatchForecaster } from '../forecast/types';
import { loadAnomalyModel, type AnomalyModel } from '../anomaly/index';
import { likelihoodScores, PUBLISHED_LIKELIHOOD, type LikelihoodParams } from '../anomaly/likelihood';
import { scoreCorpus, windowsFromLabels, type NabCorpusScore, type NabCorpusFile } from '../evaluate/nab';
import {
  isNabCorpusDir,
  NabCorpusError,
  readNabCorpus,
  readReferenceScores,
  referenceDetectors,
  type NabSeries,
} from '../evaluate/nab-corpus';

const REPO = path.resolve(__dirname, '../../..');

/** One detector under one profile: NAB's swept score, the held-out one and their breakdowns. */
export interface AnomalyEvaluationRow extends NabCorpusScore {
  detector: string;
}

export class EvaluationInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'EvaluationInputError';
  }
}

/**
 * The labelled series of a file (a canonical CSV with its label column, or NAB CSVs labelled by a NAB
 * windows JSON), checked for what NAB scoring needs.
 */
export function readLabelledSeries(file: string, windowsFile?: string): LabelledSeries[] {
  const series = loadSeriesFile(file, { windowsFile });
  for (const s of series) {
    if (!s.labels)
      throw new EvaluationInputError(
        `${file}: no labels; NAB scoring needs a label column or, for NAB CSVs, --windows combined_windows.json`
      );
    const bad = s.points.findIndex(([, v]) => !Number.isFinite(v));
    if (bad >= 0)
      throw new EvaluationInputError(
        `${file}: series ${s.name} has a non-finite value at ${s.points[bad][0]}`
      );
  }
  return series;
}

/**
 * Our detector's score for every row of a labelled series, as a stream would see it: the series is
 * resampled to its own median spacing and scored as the server scores it (evaluate/anomaly-corpus.ts
 * rowScores), and each row gets the score of its bucket (0 before the detector has enough history). With `likelihood`, the scores go
 * through the anomaly likelihood with those parameters first. A detector fitted with the `residual`
 * feature needs `forecaster`, whose one-step-ahead residuals (anomaly/residuals.ts) it is given.
 */
export async function detectorScores(
  model: AnomalyModel,
  s: LabelledSeries,
  opts: { likelihood?: LikelihoodParams; forecaster?: BatchForecaster } = {}
): Promise<Float64Array> {
  const ts = s.points.map((p) => p[0]);
  const step = medianSpacing(ts);
  const out = new Float64Array(ts.length);
  if (!(step > 0)) return out;
  const wantResidual = model.detector.features.names.includes('residual');
  const forecaster = wantResidual ? opts.forecaster : undefined;
  if (wantResidual) {
    if (!forecaster)
      throw new EvaluationInputError(`${model.id} was fitted with forecast residuals: give it a forecaster`);
    if (!residualsAvailable(forecaster, step))
      throw new EvaluationInputError(
        `${s.name}: step ${step} s does not divide the forecaster's ${forecaster.step} s, so it has no residuals`
      );
    if (opts.likelihood)
      throw new EvaluationInputError('the anomaly likelihood is not measured with forecast residuals');
  }
  // The served path (gap bridging, forest, seasonal novelty, breakouts, damping), row for row as served.
  if (!wantResidual && !opts.likelihood)
    return rowScores(
      model,
      ts,
      s.points.map((p) => p[1])
    );
  const byBucket = new Map<number, number>();
  for (const seg of resample(s.points, step)) {
    if (seg.values.length < minimumPoints(model.detector.features, step)) continue;
    const residuals = forecaster && (await forecastResiduals(forecaster, seg.values, seg.start, step));
    const sc = opts.likelihood
      ? likelihoodScores(model.detector, seg.values, step, opts.likelihood)
      : scoreValues(model.detector, seg.values, step, residuals);
    sc.forEach((x, i) => {
      if (x === x) byBucket.set(seg.start + i * step, Math.min(1, Math.max(0, x)));
    });
  }
  ts.forEach((t, i) => (out[i] = byBucket.get(Math.floor(t / step) * step) ?? 0));
  return out;
}

/**
 * The training dataset of `forecaster` whose content is `data`'s (same SHA-256), if any: residuals from
 * that forecaster have seen the very series being scored. Only identical bytes are recognised.
 */
export function trainedOn(forecaster: LstmForecaster, data: string): string | undefined {
  const digest = dataDigest(data);
  const datasets = forecaster.metadata.training?.datasets;
  if (!Array.isArray(datasets)) return undefined;
  const seen = (datasets as Array<{ name?: unknown; sha256?: unknown }>).find((d) => d.sha256 === digest);
  return seen ? String(seen.name) : undefined;
}

/** Says on stderr when a forecaster's residuals have seen the data they are scored on. */
export function warnIfTrainedOn(forecaster: LstmForecaster, data: string): void {
  const seen = trainedOn(forecaster, data);
  if (!seen) return;
  const { id, version } = forecaster.metadata;
  process.stderr.write(
    `warning: forecaster ${id}@${version} was trained on ${seen}, the data scored here: its residuals have ` +
      'seen these series, so the scores lean optimistic (give --forecaster one trained without it)\n'
  );
}

/**
 * The files to score, rows as NAB counts them: NAB's `<category>/<file>.csv` layout (or a flat directory
 * of NAB CSVs, one category) read in file order with `windows`, or the labelled series of a canonical CSV
 * (one category, named after the file).
 */
export function readEvaluationCorpus(data: string, windows?: string): NabSeries[] {
  const isDir = fs.existsSync(data) && fs.statSync(data).isDirectory();
  if (isDir && (windows || isNabCorpusDir(data))) {
    if (!windows)
      throw new EvaluationInputError(
        `${data}: NAB's <category>/<file>.csv layout has no labels in it; give NAB's --windows combined_windows.json`
      );
    return readNabCorpus(data, windows);
  }
  const category = path.basename(data).replace(/\.[^.]*$/, '');
  return readLabelledSeries(data, windows).map((s) => {
    const timestamps = Float64Array.from(s.points, (p) => p[0]);
    return {
      name: s.name,
      category,
      timestamps,
      values: Float64Array.from(s.points, (p) => p[1]),
      windows: windowsFromLabels(timestamps, s.labels!),
    };
  });
}

/**
 * Our detector's score for every row of a corpus file: the file's rows in time order without repeats (the
 * first of a repeated time kept) go through detectorScores, and each row takes the score of its time.
 */
async function oursOnRows(
  f: NabSeries,
  score: (s: LabelledSeries) => Promise<Float64Array>
): Promise<Float64Array> {
  const ts = f.timestamps;
  const idx = Array.from(ts, (_, i) => i).sort((a, b) => ts[a] - ts[b] || a - b);
  const points: Array<[number, number]> = [];
  for (const i of idx)
    if (!points.length || points[points.length - 1][0] !== ts[i]) points.push([ts[i], f.values[i]]);
  const sc = await score({ name: f.name, points });
  const byTime = new Map(points.map(([t], k) => [t, sc[k]]));
  return Float64Array.from(ts, (t) => byTime.get(t)!);
}

/** One result set per detector and profile; reference detectors that lack a file or a row are skipped with a note. */
export async function evaluateAnomaly(opts: {
  data: string;
  /** NAB `combined_windows.json` labelling NAB CSVs in `data`. */
  windows?: string;
  referenceDir?: string;
  model?: AnomalyModel;
  /** Gives the residuals of a detector fitted with the `residual` feature. */
  forecaster?: BatchForecaster;
  /** Also score our detector with the anomaly likelihood (these parameters), named `<model id>+likelihood`. */
  likelihood?: LikelihoodParams;
  onlyOurs?: boolean;
  log?: (msg: string) => void;
  /** Called with the milliseconds each phase took (read, ours, references, scoring). */
  timing?: (phase: string, ms: number) => void;
}): Promise<AnomalyEvaluationRow[]> {
  const log = opts.log ?? ((m: string) => process.stderr.write(m + '\n'));
  const timing = opts.timing ?? (() => undefined);
  let t0 = Date.now();
  const corpus = readEvaluationCorpus(opts.data, opts.windows);
  timing('read', Date.now() - t0);
  const asFiles = (scores: ArrayLike<number>[]): NabCorpusFile[] =>
    corpus.map((f, k) => ({
      name: f.name,
      category: f.category,
      timestamps: f.timestamps,
      scores: scores[k],
      windows: f.windows,
    }));
  const ours = async (o: { likelihood?: LikelihoodParams }) => {
    const scores: Float64Array[] = [];
    for (const f of corpus)
      scores.push(
        await oursOnRows(f, (s) => detectorScores(opts.model!, s, { ...o, forecaster: opts.forecaster }))
      );
    return asFiles(scores);
  };

  const detectors: Array<{ name: string; files: NabCorpusFile[] }> = [];
  t0 = Date.now();
  if (opts.model) {
    detectors.push({ name: opts.model.id, files: await ours({}) });
    const likelihood = opts.likelihood;
    if (likelihood)
      detectors.push({ name: `${opts.model.id}+likelihood`, files: await ours({ likelihood }) });
  }
  timing('ours', Date.now() - t0);
  t0 = Date.now();
  if (opts.referenceDir && !opts.onlyOurs) {
    for (const det of referenceDetectors(opts.referenceDir)) {
      try {
        detectors.push({ name: det, files: asFiles(readReferenceScores(opts.referenceDir, det, corpus)) });
      } catch (e) {
        if (!(e instanceof NabCorpusError)) throw e;
        log(`skipping reference detector ${det}: ${e.message}`);
      }
    }
  }
  timing('references', Date.now() - t0);
  t0 = Date.now();
  const rows = detectors.flatMap((d) => scoreCorpus(d.files).map((r) => ({ detector: d.name, ...r })));
  timing('scoring', Date.now() - t0);
  return rows;
}

const fmt = (x: number | null, digits = 1) => (x === null ? 'n/a' : x.toFixed(digits));

/** The table of `--per-category`: per category (standard profile), each detector's swept / held-out score. */
function perCategoryTable(rows: AnomalyEvaluationRow[]): string {
  const standard = rows.filter((r) => r.profile === 'standard');
  const cats = standard[0]?.perCategory ?? [];
  const width = Math.max(16, ...standard.map((r) => r.detector.length + 2));
  const lines = [
    '\nstandard profile per category: NAB score of its files, swept / held out (null 0, perfect 100); ' +
      'a category without windows shows its raw score (the cost of its false positives) in brackets',
    'category'.padEnd(24) +
      'files'.padStart(6) +
      'windows'.padStart(8) +
      standard.map((r) => r.detector.padStart(width)).join(''),
  ];
  cats.forEach((c, k) => {
    const cell = (r: AnomalyEvaluationRow) => {
      const x = r.perCategory[k];
      return x.windows > 0
        ? `${fmt(x.score)} / ${fmt(x.heldOut)}`
        : `(${x.raw.toFixed(2)} / ${x.heldOutRaw.toFixed(2)})`;
    };
    lines.push(
      c.category.padEnd(24) +
        String(c.files).padStart(6) +
        String(c.windows).padStart(8) +
        standard.map((r) => cell(r).padStart(width)).join('')
    );
  });
  return lines.join('\n') + '\n';
}

/** The table of `--per-file`: per file (standard profile), each detector's raw score swept / held out. */
function perFileTable(rows: AnomalyEvaluationRow[]): string {
  const standard = rows.filter((r) => r.profile === 'standard');
  const files = standard[0]?.perFile ?? [];
  const width = Math.max(18, ...standard.map((r) => r.detector.length + 2));
  const nameWidth = Math.max(10, ...files.map((f) => f.name.length + 2));
  const lines = [
    '\nstandard profile per file: raw score at the swept threshold / at the held-out threshold',
    'file'.padEnd(nameWidth) +
      'windows'.padStart(8) +
      standard.map((r) => r.detector.padStart(width)).join(''),
  ];
  files.forEach((f, k) => {
    const cell = (r: AnomalyEvaluationRow) =>
      `${r.perFile[k].raw.toFixed(2)} / ${r.perFile[k].heldOutRaw.toFixed(2)}`;
    lines.push(
      f.name.padEnd(nameWidth) +
        String(f.windows).padStart(8) +
        standard.map((r) => cell(r).padStart(width)).join('')
    );
  });
  return lines.join('\n') + '\n';
}

/** What the held-out column means for these rows, in words. */
export function heldOutMethod(rows: readonly AnomalyEvaluationRow[]): string {
  const r = rows[0];
  if (!r) return '';
  if (r.heldOutBy === 'category')
    return `held-out: each file at the threshold swept on the other categories (leave one category out, ${r.perCategory.length} categories)`;
  return 'held-out: each file at the threshold swept on the other files (leave one file out: the data has one category)';
}

function usage(msg?: string): never {
  if (msg) process.stderr.write(`error: ${msg}\n`);
  process.stderr.write(
    'usage: evaluate:anomaly -- --data FILE|DIR [--windows combined_windows.json] [--reference-dir DIR]\n' +
      '           [--model DIR] [--forecaster DIR] [--likelihood [--likelihood-short-window N]]\n' +
      '           [--per-file] [--per-category] [--json]\n'
  );
  process.exit(2);
}

async function main(argv: string[]): Promise<void> {
  let data: string | undefined;
  let referenceDir: string | undefined;
  let windows: string | undefined;
  let modelDir = path.join(REPO, 'models/anomaly');
  let forecasterDir = path.join(REPO, 'models/forecaster');
  let json = false;
  let perFile = false;
  let perCategory = false;
  let likelihood: LikelihoodParams | undefined;
  let shortWindow: number = PUBLISHED_LIKELIHOOD.shortWindow;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const val = () => argv[++i] ?? usage(`${a} needs a value`);
    if (a === '--data') data = val();
    else if (a === '--reference-dir') referenceDir = val();
    else if (a === '--windows') windows = val();
    else if (a === '--model') modelDir = val();
    else if (a === '--forecaster') forecasterDir = val();
    else if (a === '--json') json = true;
    else if (a === '--per-file') perFile = true;
    else if (a === '--per-category') perCategory = true;
    else if (a === '--likelihood') likelihood = { ...PUBLISHED_LIKELIHOOD };
    else if (a === '--likelihood-short-window') shortWindow = Number(val());
    else usage(`unknown argument ${a}`);
  }
  if (!data) usage('--data FILE is required');
  if (!(Number.isInteger(shortWindow) && shortWindow >= 1))
    usage('--likelihood-short-window must be an integer ≥ 1');
  if (likelihood) likelihood.shortWindow = shortWindow;
  else if (argv.includes('--likelihood-short-window')) usage('--likelihood-short-window needs --likelihood');
  const model = loadAnomalyModel(modelDir);
  const forecaster = model.detector.features.names.includes('residual')
    ? await loadForecaster(forecasterDir)
    : undefined;
  if (forecaster) warnIfTrainedOn(forecaster, data);
  else if (argv.includes('--forecaster'))
    process.stderr.write('note: --forecaster ignored: this detector uses no forecast residuals\n');
  const t0 = Date.now();
  const phases: string[] = [];
  const rows = await evaluateAnomaly({
    data,
    windows,
    referenceDir,
    model,
    forecaster,
    likelihood,
    timing: (phase, ms) => phases.push(`${phase} ${ms} ms`),
  });
  process.stderr.write(
    `scored ${new Set(rows.map((r) => r.detector)).size} detectors on ${rows[0]?.perFile.length ?? 0} files ` +
      `in ${Date.now() - t0} ms (${phases.join(', ')})\n${json ? heldOutMethod(rows) + '\n' : ''}`
  );
  // Best first by the standard profile, so the ranking reads top-down.
  const standard = new Map(rows.filter((r) => r.profile === 'standard').map((r) => [r.detector, r.score]));
  rows.sort(
    (a, b) => standard.get(b.detector)! - standard.get(a.detector)! || a.detector.localeCompare(b.detector)
  );
  if (json) {
    process.stdout.write(
      JSON.stringify({
        results: rows.map((r) => ({
          detector: r.detector,
          profile: r.profile,
          score: r.score,
          heldOut: r.heldOut,
          ...(perFile ? { files: r.perFile } : {}),
          ...(perCategory ? { categories: r.perCategory } : {}),
        })),
      }) + '\n'
    );
    return;
  }
  const line = (c: string[]) =>
    c[0].padEnd(30) +
    c[1].padEnd(20) +
    c
      .slice(2)
      .map((x) => x.padStart(10))
      .join('') +
    '\n';
  process.stdout.write(`${heldOutMethod(rows)}\n`);
  process.stdout.write(
    line(['detector', 'profile', 'score', 'held-out', 'raw', 'threshold', 'tp rows', 'fp rows'])
  );
  for (const r of rows) {
    process.stdout.write(
      line([
        r.detector,
        r.profile,
        r.score.toFixed(1),
        r.heldOut.toFixed(1),
        r.raw.toFixed(3),
        r.threshold.toFixed(4),
        String(r.tp),
        String(r.fp),
      ])
    );
  }
  if (perCategory) process.stdout.write(perCategoryTable(rows));
  if (perFile) process.stdout.write(perFileTable(rows));
}

if (require.main === module) {
  main(process.argv.slice(2)).catch((e: unknown) => {
    process.stderr.write(`error: ${(e as Error).message}\n`);
    process.exit(1);
  });
}
