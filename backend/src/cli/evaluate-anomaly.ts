/**
 * NAB-scores anomaly detectors on a labelled canonical CSV: our shipped detector (named by its model id,
 * `prescaler-…`) and every detector whose NAB result CSVs sit under `--reference-dir DIR/<detector>/`,
 * all on the same rows with the same scorer (backend/src/evaluate/nab.ts). Beside NAB's score (threshold
 * swept on all files) it prints the leave-one-file-out score (each file at the threshold best on the
 * others). `--likelihood` adds our detector with the anomaly likelihood post-processing (anomaly/
 * likelihood.ts) as a second row; `--per-file` prints each file's standard-profile raw score. A detector
 * fitted with the `residual` feature is scored with the residuals of the forecaster in `--forecaster DIR`
 * (default models/forecaster).
 *
 * The data is a labelled canonical CSV, or NAB CSVs (a file or a directory of them) with `--windows`.
 *
 *   npm run -s evaluate:anomaly -- --data FILE [--windows FILE] [--reference-dir DIR] [--model DIR] [--forecaster DIR]
 *       [--likelihood [--likelihood-short-window N]] [--per-file] [--json]
 */
import * as fs from 'fs';
import * as path from 'path';
import type { LabelledSeries } from '../data/canonical';
import { dataDigest, loadSeriesFile } from '../data/loaders';
import { resample } from '../series/resample';
import { medianSpacing } from '../series/time';
import { scoreValues } from '../anomaly/detector';
import { minimumPoints } from '../anomaly/features';
import { forecastResiduals, residualsAvailable } from '../anomaly/residuals';
import { loadForecaster, type LstmForecaster } from '../forecast/lstm';
import type { BatchForecaster } from '../forecast/types';
import { loadAnomalyModel, type AnomalyModel } from '../anomaly/index';
import { likelihoodScores, PUBLISHED_LIKELIHOOD, type LikelihoodParams } from '../anomaly/likelihood';
import {
  heldOutScore,
  nabScore,
  NAB_PROFILES,
  scoreAtThreshold,
  windowsFromLabels,
  type NabDataFile,
  type NabProfileName,
} from '../evaluate/nab';

const REPO = path.resolve(__dirname, '../../..');

export interface AnomalyEvaluationRow {
  detector: string;
  profile: NabProfileName;
  score: number;
  raw: number;
  threshold: number;
  tp: number;
  fp: number;
  /** Leave-one-file-out score (null 0, perfect 100). */
  heldOut: number;
  /** Per file: raw score at the corpus-best threshold, and at the threshold best on the other files. */
  files: Array<{ name: string; raw: number; heldOutRaw: number; heldOutThreshold: number }>;
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
 * resampled to its own median spacing, each segment scored from its past only, and each row gets the
 * score of its bucket (0 before the features have enough history). With `likelihood`, the scores go
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

/** NAB results times (`YYYY-MM-DD HH:MM:SS`, no zone) read as UTC, like the canonical CSV's. */
function parseNabTime(s: string): number {
  const m = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})(\.\d+)?$/.exec(s.trim());
  if (!m) return NaN;
  return Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6]) / 1000;
}

/** Scores from one NAB result CSV (`timestamp,value,anomaly_score,…`), keyed by time (first row kept). */
export function readNabResults(file: string): Map<number, number> {
  const lines = fs
    .readFileSync(file, 'utf8')
    .split(/\r?\n/)
    .filter((l) => l.trim() !== '');
  const header = (lines[0] ?? '').split(',').map((h) => h.trim());
  const ti = header.indexOf('timestamp');
  const si = header.indexOf('anomaly_score');
  if (ti < 0 || si < 0)
    throw new EvaluationInputError(`${file}: header lacks "timestamp" or "anomaly_score"`);
  const out = new Map<number, number>();
  for (let i = 1; i < lines.length; i++) {
    const c = lines[i].split(',');
    const t = parseNabTime(c[ti] ?? '');
    const s = Number(c[si]);
    if (!Number.isFinite(t) || !Number.isFinite(s))
      throw new EvaluationInputError(`${file}:${i + 1}: bad row`);
    if (!out.has(t)) out.set(t, s);
  }
  return out;
}

function stem(seriesName: string): string {
  return seriesName.slice(seriesName.lastIndexOf('/') + 1);
}

/** One result set per detector; reference detectors that lack a file or a row are skipped with a note. */
export async function evaluateAnomaly(opts: {
  data: string;
  /** NAB `combined_windows.json` labelling raw NAB CSVs in `data`. */
  windows?: string;
  referenceDir?: string;
  model?: AnomalyModel;
  /** Gives the residuals of a detector fitted with the `residual` feature. */
  forecaster?: BatchForecaster;
  /** Also score our detector with the anomaly likelihood (these parameters), named `<model id>+likelihood`. */
  likelihood?: LikelihoodParams;
  onlyOurs?: boolean;
  log?: (msg: string) => void;
}): Promise<AnomalyEvaluationRow[]> {
  const log = opts.log ?? ((m: string) => process.stderr.write(m + '\n'));
  const series = readLabelledSeries(opts.data, opts.windows);
  const windows = series.map((s) =>
    windowsFromLabels(
      s.points.map((p) => p[0]),
      s.labels!
    )
  );
  const asFiles = (scores: (s: LabelledSeries, k: number) => ArrayLike<number>): NabDataFile[] =>
    series.map((s, k) => ({
      name: s.name,
      timestamps: s.points.map((p) => p[0]),
      scores: scores(s, k),
      windows: windows[k],
    }));
  const ours = async (o: { likelihood?: LikelihoodParams }) => {
    const scores: Float64Array[] = [];
    for (const s of series)
      scores.push(await detectorScores(opts.model!, s, { ...o, forecaster: opts.forecaster }));
    return asFiles((_, k) => scores[k]);
  };

  const detectors: Array<{ name: string; files: NabDataFile[] }> = [];
  if (opts.model) {
    detectors.push({ name: opts.model.id, files: await ours({}) });
    const likelihood = opts.likelihood;
    if (likelihood)
      detectors.push({ name: `${opts.model.id}+likelihood`, files: await ours({ likelihood }) });
  }
  if (opts.referenceDir && !opts.onlyOurs) {
    const dirs = fs
      .readdirSync(opts.referenceDir, { withFileTypes: true })
      .filter((d) => d.isDirectory())
      .map((d) => d.name)
      .sort();
    for (const det of dirs) {
      try {
        const files = asFiles((s) => {
          const file = path.join(opts.referenceDir!, det, `${det}_${stem(s.name)}.csv`);
          if (!fs.existsSync(file)) throw new EvaluationInputError(`no results file ${file}`);
          const byTime = readNabResults(file);
          return s.points.map(([t]) => {
            const x = byTime.get(t);
            if (x === undefined)
              throw new EvaluationInputError(`${file}: no row for ${new Date(t * 1000).toISOString()}`);
            return x;
          });
        });
        detectors.push({ name: det, files });
      } catch (e) {
        if (!(e instanceof EvaluationInputError)) throw e;
        log(`skipping reference detector ${det}: ${e.message}`);
      }
    }
  }

  const rows: AnomalyEvaluationRow[] = [];
  for (const d of detectors) {
    const heldOut = new Map(heldOutScore(d.files).map((h) => [h.profile, h]));
    for (const r of nabScore(d.files)) {
      const h = heldOut.get(r.profile)!;
      const cost = NAB_PROFILES[r.profile];
      rows.push({
        detector: d.name,
        profile: r.profile,
        score: r.score,
        raw: r.raw,
        threshold: r.threshold,
        tp: r.tp,
        fp: r.fp,
        heldOut: h.score,
        files: d.files.map((f, k) => ({
          name: f.name,
          raw: scoreAtThreshold([f], cost, r.threshold).score,
          heldOutRaw: h.files[k].raw,
          heldOutThreshold: h.files[k].threshold,
        })),
      });
    }
  }
  return rows;
}

function usage(msg?: string): never {
  if (msg) process.stderr.write(`error: ${msg}\n`);
  process.stderr.write(
    'usage: evaluate:anomaly -- --data FILE|DIR [--windows combined_windows.json] [--reference-dir DIR]\n' +
      '           [--model DIR] [--forecaster DIR] [--likelihood\n' +
      '           [--likelihood-short-window N]] [--per-file] [--json]\n'
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
  const rows = await evaluateAnomaly({ data, windows, referenceDir, model, forecaster, likelihood });
  process.stderr.write(
    `scored ${new Set(rows.map((r) => r.detector)).size} detectors in ${Date.now() - t0} ms\n`
  );
  // Best first by the standard profile, so the ranking reads top-down.
  const standard = new Map(rows.filter((r) => r.profile === 'standard').map((r) => [r.detector, r.score]));
  rows.sort(
    (a, b) => standard.get(b.detector)! - standard.get(a.detector)! || a.detector.localeCompare(b.detector)
  );
  if (json) {
    process.stdout.write(
      JSON.stringify({
        results: rows.map(({ detector, profile, score, heldOut, files }) => ({
          detector,
          profile,
          score,
          heldOut,
          ...(perFile ? { files } : {}),
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
  if (perFile) {
    const standardRows = rows.filter((r) => r.profile === 'standard');
    const names = standardRows[0]?.files.map((f) => stem(f.name)) ?? [];
    process.stdout.write(
      '\nstandard profile, raw score per file at the corpus-best threshold / at the threshold best on the other files\n' +
        names.map((n, k) => `F${k + 1} = ${n}`).join(', ') +
        '\n'
    );
    process.stdout.write(
      'detector'.padEnd(30) + names.map((_, k) => `F${k + 1}`.padStart(16)).join('') + '\n'
    );
    for (const r of standardRows) {
      process.stdout.write(
        r.detector.padEnd(30) +
          r.files.map((f) => `${f.raw.toFixed(2)} / ${f.heldOutRaw.toFixed(2)}`.padStart(16)).join('') +
          '\n'
      );
    }
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).catch((e: unknown) => {
    process.stderr.write(`error: ${(e as Error).message}\n`);
    process.exit(1);
  });
}
