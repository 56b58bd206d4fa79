/**
 * Fits the shipped anomaly detector on unlabelled canonical CSVs and writes models/anomaly/
 * (forest.json + metadata.json). With --evaluate FILE it also NAB-scores the new model on that labelled
 * CSV (never part of the training data) and records the figures in the metadata. `--features` names the
 * feature columns; naming `residual` fits on the one-step-ahead residuals of the forecaster in
 * `--forecaster DIR` (default models/forecaster); the server computes no residuals, so such a detector is
 * for evaluation only (loadServedAnomalyModel refuses it).
 *
 *   npx tsx backend/src/cli/train-anomaly.ts [--data FILE]... [--out DIR] [--seed N] [--trees N]
 *       [--contamination C] [--features LIST [--forecaster DIR]] [--breakout off] [--evaluate FILE]
 *       [--reference-dir DIR]
 */
import * as crypto from 'node:crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import type { LabelledSeries } from '../data/canonical';
import { dataDigest, loadSeriesFile } from '../data/loaders';
import { resample } from '../series/resample';
import { medianSpacing } from '../series/time';
import { DEFAULT_BREAKOUT, DEFAULT_CONTAMINATION, detectorToJSON, fitDetector } from '../anomaly/detector';
import { DEFAULT_FEATURE_CONFIG, validateFeatureConfig, type FeatureName } from '../anomaly/features';
import { loadAnomalyModel, saveAnomalyModel } from '../anomaly/index';
import { forecastResiduals, residualsAvailable } from '../anomaly/residuals';
import { loadForecaster, type LstmForecaster } from '../forecast/lstm';
import { evaluateAnomaly, warnIfTrainedOn } from './evaluate-anomaly';
import type { SeasonalNovelty } from '../anomaly/seasonal';
import type { AnomalyMetadata } from '../anomaly/index';
import { alertRate, calibrate, type AlertRate, type CorpusSeries } from '../evaluate/anomaly-corpus';
import type { NabCorpusScore } from '../evaluate/nab';
import { readNabCorpus } from '../evaluate/nab-corpus';

const REPO = path.resolve(__dirname, '../../..');
const CANONICAL = path.resolve(REPO, '../shared/data/canonical');
/** Every unlabelled canonical trace; the labelled NAB file is kept out so it can be scored honestly. */
const DEFAULT_TRAINING = [
  'alibaba2018-cluster-aggregate.csv',
  'azure2017-cluster-aggregate.csv',
  'azure2019-v2-cluster-aggregate.csv',
  'bitbrains-rnd-2013-7.csv',
  'google2011-gcd-jobs.csv',
  'google2019-cell-aggregate.csv',
  'google2019-instance-usage-tasks-job113.csv',
  'nasa-http-1995.csv',
].map((f) => path.join(CANONICAL, f));

/** Coarsest native spacing we keep; finer traces are averaged up to it, as Prometheus range queries would. */
export const MIN_TRAINING_STEP = 300;

export const MODEL_ID = 'prescaler-iforest';

function usage(msg?: string): never {
  if (msg) process.stderr.write(`error: ${msg}\n`);
  process.stderr.write(
    'usage: train-anomaly [--data FILE]... [--out DIR] [--seed N] [--trees N] [--contamination C]\n' +
      '                     [--features LIST [--forecaster DIR]] [--breakout off] [--seasonal off]\n' +
      '                     [--max-gap SECONDS] [--onset SECONDS] [--noise-margin SDS]\n' +
      '                     [--nab-corpus DIR [--seed-spread N,N,...]] [--alert-rate]\n' +
      '                     [--evaluate FILE [--windows NAB_WINDOWS_JSON]] [--reference-dir DIR]\n'
  );
  process.exit(2);
}

/**
 * Fitting options of the shipped detector; `npm run train` uses them as they are. The settings after the
 * forest's were chosen by the held-out (leave-one-category-out) score on the NAB corpus, never on a
 * handful of files (docs/anomaly.md has the candidates and their figures): holes up to 6 h bridged, no
 * onset damping, the seasonal novelty mixed in at 0.3, the breakout rule as before.
 */
export const ANOMALY_TRAINING_DEFAULTS = {
  seed: 42,
  trees: 200,
  contamination: DEFAULT_CONTAMINATION,
  maxGapSeconds: 6 * 3600,
  onsetSeconds: 0,
  /** The breakout rule's margin in step-to-step standard deviations (detector.ts BreakoutRule). */
  noiseMargin: 0.9,
  seasonal: {
    forestWeight: 0.7,
    shingle: 8,
    days: 3,
    toleranceSeconds: 3600,
    maxTolerancePoints: 12,
    normalizeSeconds: 86400,
  } as SeasonalNovelty | undefined,
};

/** A training file as read once: its path, its dataDigest and its series (canonical or raw formats). */
export interface TrainingFile {
  file: string;
  sha256: string;
  series: LabelledSeries[];
}

/** The unlabelled series of a training file as the forest is fitted on them: at max(300 s, their spacing). */
export function trainingSegments(f: TrainingFile) {
  return f.series
    .filter((s) => !s.labels)
    .map((s) => {
      const step = Math.max(MIN_TRAINING_STEP, medianSpacing(s.points.map((p) => p[0])));
      return { step, segments: Number.isFinite(step) ? resample(s.points, step) : [] };
    });
}

export function readTrainingFile(file: string): TrainingFile {
  return { file, sha256: dataDigest(file), series: loadSeriesFile(file) };
}

/**
 * Fits the Isolation Forest on every unlabelled series of `files` and writes `forest.json` and
 * `metadata.json` to `opts.out`. Shared by `train:anomaly` and `train`. Features default to the shipped
 * ones; naming `residual` needs `forecaster`, and series at a step that does not divide its step are left
 * out (they have no residuals).
 */
export async function trainAnomalyModel(
  files: TrainingFile[],
  opts: {
    out: string;
    seed: number;
    trees: number;
    contamination: number;
    features?: FeatureName[];
    forecaster?: LstmForecaster;
    /** The breakout rule (detector.ts); null fits a detector without it. Default DEFAULT_BREAKOUT. */
    breakout?: null;
    /** Detector settings beyond the forest (detector.ts); default ANOMALY_TRAINING_DEFAULTS'. */
    maxGapSeconds?: number;
    onsetSeconds?: number;
    noiseMargin?: number;
    seasonal?: SeasonalNovelty;
    /**
     * A NAB corpus to take the threshold from (evaluate/anomaly-corpus.ts `calibrate`) instead of the
     * contamination quantile; its figures go into the metadata.
     */
    corpus?: { dir: string; series: CorpusSeries[] };
    log?: (m: string) => void;
  }
) {
  const log = opts.log ?? ((m: string) => process.stderr.write(`${m}\n`));
  const features = opts.features
    ? { ...DEFAULT_FEATURE_CONFIG, names: opts.features }
    : DEFAULT_FEATURE_CONFIG;
  validateFeatureConfig(features);
  const wantResidual = features.names.includes('residual');
  if (wantResidual && !opts.forecaster)
    throw new Error('the "residual" feature needs a forecaster (--forecaster DIR)');
  const forecaster = wantResidual ? opts.forecaster : undefined;

  const series: Array<{ name: string; step: number; values: number[]; residuals?: Float64Array }> = [];
  const datasets: Array<{ name: string; file: string; sha256: string; series: number; seriesUsed: number }> =
    [];
  for (const [fileIndex, { file, sha256, series: parsed }] of files.entries()) {
    const before = series.length;
    let labelled = 0;
    for (const s of parsed) {
      // Labelled series (NAB's) are what the detector is scored on: never fitted on.
      if (s.labels) {
        labelled++;
        continue;
      }
      const step = Math.max(MIN_TRAINING_STEP, medianSpacing(s.points.map((p) => p[0])));
      if (!Number.isFinite(step)) continue;
      if (forecaster && !residualsAvailable(forecaster, step)) {
        log(`${s.name}: left out, its step ${step} s does not divide the forecaster's ${forecaster.step} s`);
        continue;
      }
      for (const [k, seg] of resample(s.points, step).entries()) {
        const residuals = forecaster && (await forecastResiduals(forecaster, seg.values, seg.start, step));
        series.push({ name: `${fileIndex}\t${s.name}\t${k}`, step, values: seg.values, residuals });
      }
    }
    datasets.push({
      name: path.basename(file).replace(/\.csv$/, ''),
      file: path.basename(file),
      sha256,
      series: parsed.length,
      seriesUsed: 0,
    });
    log(
      `read ${file}: ${parsed.length} series, ${series.length - before} segments` +
        (labelled ? ` (${labelled} labelled series left out)` : '')
    );
  }

  const t0 = Date.now();
  const fit = fitDetector(series, {
    features,
    nTrees: opts.trees,
    sampleSize: 256,
    seed: opts.seed,
    threshold: { kind: 'contamination', contamination: opts.contamination },
    breakout:
      opts.breakout === null
        ? null
        : { ...DEFAULT_BREAKOUT, noiseMargin: opts.noiseMargin ?? ANOMALY_TRAINING_DEFAULTS.noiseMargin },
    maxGapSeconds: opts.maxGapSeconds ?? ANOMALY_TRAINING_DEFAULTS.maxGapSeconds,
    onsetSeconds: opts.onsetSeconds ?? ANOMALY_TRAINING_DEFAULTS.onsetSeconds,
    seasonal: 'seasonal' in opts ? opts.seasonal : ANOMALY_TRAINING_DEFAULTS.seasonal,
  });
  let corpusEvaluation: Record<string, unknown> | undefined;
  if (opts.corpus) {
    const t1 = Date.now();
    const cal = calibrate(
      { id: MODEL_ID, version: 'calibrating', detector: fit.detector, metadata: {} as AnomalyMetadata },
      opts.corpus.series
    );
    fit.detector.threshold = cal.threshold;
    fit.detector.thresholdPolicy = { kind: 'fixed', threshold: cal.threshold };
    corpusEvaluation = corpusFigures(opts.corpus.dir, cal.results);
    log(
      `calibrated on ${opts.corpus.series.length} NAB series in ${((Date.now() - t1) / 1000).toFixed(1)} s: ` +
        `threshold ${cal.threshold.toFixed(4)}, standard ${cal.results[0].score.toFixed(1)} swept / ` +
        `${cal.results[0].heldOut.toFixed(1)} held out`
    );
  }
  // A series counts as used when at least one of its segments gave feature rows.
  const usedSeries = new Set(fit.used.map((n) => n.split('\t').slice(0, 2).join('\t')));
  for (const key of usedSeries) datasets[Number(key.split('\t')[0])].seriesUsed++;
  log(
    `fitted on ${fit.rows} feature rows from ${fit.used.length} segments (${fit.skipped.length} skipped) in ` +
      `${((Date.now() - t0) / 1000).toFixed(1)} s; threshold ${fit.detector.threshold.toFixed(4)}`
  );

  const forest = fit.detector.forest.toJSON();
  // The fitting date and the start of forestSha256 (the digest of forest.json): same version, same model.
  const digest = crypto.createHash('sha256').update(JSON.stringify(detectorToJSON(fit.detector)));
  const metadata = saveAnomalyModel(opts.out, fit.detector, {
    id: MODEL_ID,
    version: `${new Date().toISOString().slice(0, 10)}-${digest.digest('hex').slice(0, 8)}`,
    createdAt: new Date().toISOString(),
    algorithm: 'Isolation Forest (Liu, Ting & Zhou 2008) on streaming, unit-free features',
    training: {
      method:
        'one global forest fitted on the feature rows of every segment of the unlabelled canonical traces below; ' +
        'no labelled (NAB) series is used for fitting' +
        (opts.corpus
          ? '; the threshold is the NAB corpus calibration below (standard profile, swept)'
          : ' or for the threshold'),
      step: `each series resampled to max(${MIN_TRAINING_STEP} s, its median sample spacing)`,
      datasets,
      featureRows: fit.rows,
      ...(forecaster
        ? {
            residuals:
              `one-step-ahead residuals of forecaster ${forecaster.metadata.id}@${forecaster.metadata.version} ` +
              '(anomaly/residuals.ts)',
          }
        : {}),
    },
    features: fit.detector.features,
    forest: {
      nTrees: forest.nTrees,
      sampleSize: forest.sampleSize,
      heightLimit: forest.heightLimit,
      seed: opts.seed,
    },
    threshold: { value: fit.detector.threshold, policy: fit.detector.thresholdPolicy },
    onsetSeconds: fit.detector.onsetSeconds,
    ...(fit.detector.breakout ? { breakout: fit.detector.breakout } : {}),
    maxGapSeconds: fit.detector.maxGapSeconds,
    ...(fit.detector.seasonal ? { seasonal: fit.detector.seasonal } : {}),
    ...(corpusEvaluation ? { corpus: corpusEvaluation } : {}),
  });
  log(`wrote ${opts.out}/forest.json and metadata.json`);
  return { metadata, detector: fit.detector };
}

const round2 = (x: number | null) => (x === null ? null : round(x, 2));

/** What the metadata records of a corpus calibration: per profile, swept and held out, and per category. */
export function corpusFigures(dir: string, results: NabCorpusScore[]) {
  return {
    method:
      'NAB scorer (evaluate/nab.ts scoreCorpus) on the served scores (evaluate/anomaly-corpus.ts rowScores): ' +
      'score = one threshold swept over every file; heldOut = each file at the threshold best on the files ' +
      `outside its ${results[0]?.heldOutBy ?? 'category'} (leave one category out); normalised null 0 / perfect 100`,
    corpus: path.relative(REPO, dir),
    files: results[0]?.perFile.length ?? 0,
    results: results.map((r) => ({
      profile: r.profile,
      score: round2(r.score),
      heldOut: round2(r.heldOut),
      threshold: r.threshold,
      perCategory: r.perCategory.map((c) => ({
        category: c.category,
        score: round2(c.score),
        heldOut: round2(c.heldOut),
      })),
    })),
  };
}

/** Each profile's swept and held-out score of a model calibrated on a corpus (its metadata's `corpus`). */
function headline(metadata: AnomalyMetadata) {
  const c = metadata.corpus as ReturnType<typeof corpusFigures>;
  return c.results.map(({ profile, score, heldOut }) => ({ profile, score, heldOut }));
}

/** Reads a NAB corpus directory (data/, labels/combined_windows.json) as the calibration wants it. */
export function readCorpus(dir: string): CorpusSeries[] {
  return readNabCorpus(path.join(dir, 'data'), path.join(dir, 'labels/combined_windows.json'));
}

async function main(argv: string[]): Promise<void> {
  const data: string[] = [];
  let out = path.join(REPO, 'models/anomaly');
  let { seed, trees, contamination } = ANOMALY_TRAINING_DEFAULTS;
  let evaluate: string | undefined;
  let referenceDir: string | undefined;
  let windows: string | undefined;
  let featureNames: FeatureName[] | undefined;
  let forecasterDir = path.join(REPO, 'models/forecaster');
  let breakout: null | undefined;
  let corpusDir: string | undefined;
  let seedSpread: number[] = [];
  let withAlertRate = false;
  let maxGapSeconds = ANOMALY_TRAINING_DEFAULTS.maxGapSeconds;
  let onsetSeconds = ANOMALY_TRAINING_DEFAULTS.onsetSeconds;
  let noiseMargin = ANOMALY_TRAINING_DEFAULTS.noiseMargin;
  let seasonalOff = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const val = () => argv[++i] ?? usage(`${a} needs a value`);
    if (a === '--data') data.push(val());
    else if (a === '--out') out = val();
    else if (a === '--seed') seed = Number(val());
    else if (a === '--trees') trees = Number(val());
    else if (a === '--contamination') contamination = Number(val());
    else if (a === '--evaluate') evaluate = val();
    else if (a === '--reference-dir') referenceDir = val();
    else if (a === '--windows') windows = val();
    else if (a === '--features') featureNames = val().split(',') as FeatureName[];
    else if (a === '--forecaster') forecasterDir = val();
    else if (a === '--nab-corpus') corpusDir = val();
    else if (a === '--seed-spread') seedSpread = val().split(',').map(Number);
    else if (a === '--alert-rate') withAlertRate = true;
    else if (a === '--max-gap') maxGapSeconds = Number(val());
    else if (a === '--onset') onsetSeconds = Number(val());
    else if (a === '--noise-margin') noiseMargin = Number(val());
    else if (a === '--seasonal') {
      if (val() !== 'off') usage('--seasonal takes "off" (the novelty is on by default)');
      seasonalOff = true;
    } else if (a === '--breakout') {
      const v = val();
      if (v !== 'off') usage('--breakout takes "off" (the rule is on by default)');
      breakout = null;
    } else usage(`unknown argument ${a}`);
  }
  if (!Number.isInteger(seed)) usage('--seed must be an integer');
  if (!seedSpread.every(Number.isInteger)) usage('--seed-spread takes integers, comma-separated');
  if (seedSpread.length && !corpusDir) usage('--seed-spread needs --nab-corpus (the figures it spreads)');
  if (!(maxGapSeconds >= 0 && Number.isFinite(maxGapSeconds))) usage('--max-gap must be seconds ≥ 0');
  if (!(onsetSeconds >= 0 && Number.isFinite(onsetSeconds))) usage('--onset must be seconds ≥ 0');
  if (!(noiseMargin >= 0 && Number.isFinite(noiseMargin))) usage('--noise-margin must be a number ≥ 0');
  if (corpusDir && !fs.existsSync(path.join(corpusDir, 'labels/combined_windows.json')))
    usage(
      `--nab-corpus ${corpusDir}: no labels/combined_windows.json below it (NAB's layout: data/, labels/)`
    );
  if (!(Number.isInteger(trees) && trees > 0)) usage('--trees must be a positive integer');
  if (!(contamination > 0 && contamination < 0.5)) usage('--contamination must be in (0, 0.5)');
  if (featureNames) {
    try {
      validateFeatureConfig({ ...DEFAULT_FEATURE_CONFIG, names: featureNames });
    } catch (e) {
      usage(`--features: ${(e as Error).message}`);
    }
  }
  const forecaster = featureNames?.includes('residual') ? await loadForecaster(forecasterDir) : undefined;
  const files = data.length ? data : DEFAULT_TRAINING;
  const read = files.map(readTrainingFile);
  const corpus = corpusDir ? { dir: corpusDir, series: readCorpus(corpusDir) } : undefined;
  const settings = {
    trees,
    contamination,
    features: featureNames,
    forecaster,
    breakout,
    maxGapSeconds,
    onsetSeconds,
    noiseMargin,
    ...(seasonalOff ? { seasonal: undefined } : {}),
  };
  const trained = await trainAnomalyModel(read, { ...settings, out, seed, corpus });
  let metadata = trained.metadata;

  if (seedSpread.length && corpus) {
    // The same fitting and calibration with other seeds: how much of the figure is the forest's draw.
    const runs: Array<{ seed: number; results: unknown }> = [];
    const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'prescaler-seed-'));
    try {
      for (const s of seedSpread) {
        const r = await trainAnomalyModel(read, {
          ...settings,
          out: scratch,
          seed: s,
          corpus,
          log: () => {},
        });
        runs.push({ seed: s, results: headline(r.metadata) });
        process.stderr.write(`seed ${s}: ${JSON.stringify(runs[runs.length - 1].results)}\n`);
      }
    } finally {
      fs.rmSync(scratch, { recursive: true, force: true });
    }
    metadata = {
      ...metadata,
      seedSpread: {
        seeds: [seed, ...seedSpread],
        runs: [{ seed, results: headline(metadata) }, ...runs],
      },
    };
    saveAnomalyModel(out, trained.detector, withoutHash(metadata));
  }

  if (withAlertRate) {
    // Pages per series-week at the shipped threshold, each dataset scored by a forest fitted without it.
    const rows: Array<{ dataset: string } & AlertRate> = [];
    const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'prescaler-alert-'));
    try {
      for (const [k, f] of read.entries()) {
        if (read.length < 2) break;
        const others = read.filter((_, j) => j !== k);
        const r = await trainAnomalyModel(others, { ...settings, out: scratch, seed, log: () => {} });
        const detector = { ...r.detector, threshold: trained.detector.threshold };
        const model = { id: MODEL_ID, version: 'held-out', detector, metadata: r.metadata };
        const rate = alertRate(model, trainingSegments(f), trained.detector.threshold);
        rows.push({ dataset: path.basename(f.file).replace(/\.csv$/, ''), ...rate });
        process.stderr.write(
          `${rows[rows.length - 1].dataset}: ${rate.pagesPerSeriesWeek.toFixed(3)} pages/series-week\n`
        );
      }
    } finally {
      fs.rmSync(scratch, { recursive: true, force: true });
    }
    const pages = rows.reduce((a, r) => a + r.pages, 0);
    const weeks = rows.reduce((a, r) => a + r.seriesWeeks, 0);
    metadata = {
      ...metadata,
      alertRate: {
        method:
          'pages (runs of consecutive points at or over the threshold) per series-week of scored points; each ' +
          'dataset scored by a forest fitted on the others, at the shipped threshold, at its training step',
        threshold: trained.detector.threshold,
        pagesPerSeriesWeek: weeks > 0 ? pages / weeks : 0,
        datasets: rows.map((r) => ({
          dataset: r.dataset,
          series: r.series,
          seriesWeeks: round(r.seriesWeeks, 1),
          pages: r.pages,
          pagesPerSeriesWeek: round(r.pagesPerSeriesWeek, 3),
          pointRate: r.pointRate,
        })),
      },
    };
    saveAnomalyModel(out, trained.detector, withoutHash(metadata));
  }

  if (evaluate) {
    const model = loadAnomalyModel(out);
    if (forecaster) warnIfTrainedOn(forecaster, evaluate);
    const results = await evaluateAnomaly({
      data: evaluate,
      windows,
      referenceDir,
      model,
      forecaster,
      onlyOurs: !referenceDir,
    });
    const evaluation = {
      method:
        'NAB scorer (backend/src/evaluate/nab.ts): threshold swept per detector and profile, normalised null 0 / perfect 100; ' +
        'heldOut: each file scored at the threshold best on the other files (leave one file out)',
      command: `npm run -s evaluate:anomaly -- --data ${path.relative(REPO, evaluate)}${
        referenceDir ? ` --reference-dir ${path.relative(REPO, referenceDir)}` : ''
      }`,
      dataset: {
        file: path.basename(evaluate),
        sha256: dataDigest(evaluate),
      },
      results: results.map((r) => ({
        detector: r.detector,
        profile: r.profile,
        score: round(r.score, 2),
        heldOut: round(r.heldOut, 2),
      })),
    };
    saveAnomalyModel(out, model.detector, { ...withoutHash(metadata), evaluation });
    metadata = { ...metadata, evaluation };
    for (const r of results)
      process.stderr.write(`${r.detector.padEnd(20)} ${r.profile.padEnd(20)} ${r.score.toFixed(1)}\n`);
  }
}

function round(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

function withoutHash<T extends { forestSha256: string }>(m: T): Omit<T, 'forestSha256'> {
  const { forestSha256: _ignored, ...rest } = m;
  return rest;
}

if (require.main === module) {
  main(process.argv.slice(2)).catch((e: unknown) => {
    process.stderr.write(`error: ${(e as Error).message}\n`);
    process.exit(1);
  });
}
