/**
 * NAB-scores anomaly detectors on a labelled canonical CSV: our shipped detector (named by its model id,
 * `prescaler-…`) and every detector whose NAB result CSVs sit under `--reference-dir DIR/<detector>/`,
 * all on the same rows with the same scorer (backend/src/evaluate/nab.ts).
 *
 *   npm run -s evaluate:anomaly -- --data FILE [--reference-dir DIR] [--model DIR] [--json]
 */
import * as fs from 'fs';
import * as path from 'path';
import { parseCanonicalCsv, type LabelledSeries } from '../data/canonical';
import { resample } from '../series/resample';
import { scoreValues } from '../anomaly/detector';
import { minimumPoints } from '../anomaly/features';
import { loadAnomalyModel, type AnomalyModel } from '../anomaly/index';
import { nabScore, windowsFromLabels, type NabDataFile, type NabProfileName } from '../evaluate/nab';

const REPO = path.resolve(__dirname, '../../..');

export interface AnomalyEvaluationRow {
  detector: string;
  profile: NabProfileName;
  score: number;
  raw: number;
  threshold: number;
  tp: number;
  fp: number;
}

export class EvaluationInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'EvaluationInputError';
  }
}

function medianSpacing(ts: readonly number[]): number {
  const d = ts
    .slice(1)
    .map((t, i) => t - ts[i])
    .sort((a, b) => a - b);
  return d.length ? d[Math.floor(d.length / 2)] : NaN;
}

/** The labelled series of a canonical CSV, checked for what NAB scoring needs. */
export function readLabelledSeries(file: string): LabelledSeries[] {
  const series = parseCanonicalCsv(fs.readFileSync(file, 'utf8'), file);
  for (const s of series) {
    if (!s.labels)
      throw new EvaluationInputError(`${file}: no label column; NAB scoring needs labelled anomaly windows`);
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
 * score of its bucket (0 before the features have enough history).
 */
export function detectorScores(model: AnomalyModel, s: LabelledSeries): Float64Array {
  const ts = s.points.map((p) => p[0]);
  const step = medianSpacing(ts);
  const out = new Float64Array(ts.length);
  if (!(step > 0)) return out;
  const byBucket = new Map<number, number>();
  for (const seg of resample(s.points, step)) {
    if (seg.values.length < minimumPoints(model.detector.features, step)) continue;
    const sc = scoreValues(model.detector, seg.values, step);
    sc.forEach((x, i) => {
      if (x === x) byBucket.set(seg.start + i * step, x);
    });
  }
  ts.forEach((t, i) => (out[i] = byBucket.get(Math.floor(t / step) * step) ?? 0));
  return out;
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
export function evaluateAnomaly(opts: {
  data: string;
  referenceDir?: string;
  model?: AnomalyModel;
  onlyOurs?: boolean;
  log?: (msg: string) => void;
}): AnomalyEvaluationRow[] {
  const log = opts.log ?? ((m: string) => process.stderr.write(m + '\n'));
  const series = readLabelledSeries(opts.data);
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

  const detectors: Array<{ name: string; files: NabDataFile[] }> = [];
  if (opts.model) {
    const model = opts.model;
    detectors.push({ name: model.id, files: asFiles((s) => detectorScores(model, s)) });
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
    for (const r of nabScore(d.files)) {
      rows.push({
        detector: d.name,
        profile: r.profile,
        score: r.score,
        raw: r.raw,
        threshold: r.threshold,
        tp: r.tp,
        fp: r.fp,
      });
    }
  }
  return rows;
}

function usage(msg?: string): never {
  if (msg) process.stderr.write(`error: ${msg}\n`);
  process.stderr.write(
    'usage: evaluate:anomaly -- --data FILE [--reference-dir DIR] [--model DIR] [--json]\n'
  );
  process.exit(2);
}

function main(argv: string[]): void {
  let data: string | undefined;
  let referenceDir: string | undefined;
  let modelDir = path.join(REPO, 'models/anomaly');
  let json = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const val = () => argv[++i] ?? usage(`${a} needs a value`);
    if (a === '--data') data = val();
    else if (a === '--reference-dir') referenceDir = val();
    else if (a === '--model') modelDir = val();
    else if (a === '--json') json = true;
    else usage(`unknown argument ${a}`);
  }
  if (!data) usage('--data FILE is required');
  const model = loadAnomalyModel(modelDir);
  const t0 = Date.now();
  const rows = evaluateAnomaly({ data, referenceDir, model });
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
        results: rows.map(({ detector, profile, score }) => ({ detector, profile, score })),
      }) + '\n'
    );
    return;
  }
  const line = (c: string[]) =>
    c[0].padEnd(20) +
    c[1].padEnd(20) +
    c
      .slice(2)
      .map((x) => x.padStart(10))
      .join('') +
    '\n';
  process.stdout.write(line(['detector', 'profile', 'score', 'raw', 'threshold', 'tp rows', 'fp rows']));
  for (const r of rows) {
    process.stdout.write(
      line([
        r.detector,
        r.profile,
        r.score.toFixed(1),
        r.raw.toFixed(3),
        r.threshold.toFixed(4),
        String(r.tp),
        String(r.fp),
      ])
    );
  }
}

if (require.main === module) {
  try {
    main(process.argv.slice(2));
  } catch (e) {
    process.stderr.write(`error: ${(e as Error).message}\n`);
    process.exit(1);
  }
}
