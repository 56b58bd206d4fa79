/**
 * The served detector on a labelled corpus, and the one calibration its threshold comes from.
 *
 * - `rowScores`: the score of every row of a series as the server would serve it — resampled to the series'
 *   median spacing, through `scoreSegments` (gap bridging, forest, seasonal novelty, breakouts, onset
 *   damping), each row taking the score of its bucket (0 before the detector has the past it needs).
 * - `calibrate`: NAB-scores those rows on a NAB corpus (evaluate/nab.ts `scoreCorpus`: one threshold swept
 *   over every file, and leave-one-category-out) and takes the standard profile's swept threshold as the
 *   detector's threshold. That one number is what /api/anomalies calls an anomaly, what the panel marks,
 *   and what /metrics exports as `prescaler_anomaly_threshold` for the alert rules (docs/anomaly.md).
 * - `alertRate`: pages per series-week at a threshold on unlabelled traces: a page is a run of consecutive
 *   points at or over the threshold, as the alert rule fires once per run.
 */
import { PrescalerError } from '../errors';
import { scoreSegments, type AnomalyModel } from '../anomaly/index';
import { resample } from '../series/resample';
import { medianSpacing } from '../series/time';
import { scoreCorpus, type NabCorpusFile, type NabCorpusScore } from './nab';

export interface CorpusSeries {
  name: string;
  category: string;
  timestamps: ArrayLike<number>;
  values: ArrayLike<number>;
  windows: Array<[number, number]>;
}

/** Score per row (see above); rows whose bucket has no score get 0, as NAB's detectors answer in probation. */
export function rowScores(
  model: AnomalyModel,
  timestamps: ArrayLike<number>,
  values: ArrayLike<number>
): Float64Array {
  const ts = Array.from(timestamps);
  const out = new Float64Array(ts.length);
  const step = medianSpacing(ts);
  if (!(step > 0)) return out;
  const points = ts.map((t, i) => [t, values[i]] as [number, number]);
  const scored = scoresIfAny(model, resample(points, step));
  if (!scored) return out;
  const byBucket = new Map(scored);
  ts.forEach((t, i) => (out[i] = byBucket.get(Math.floor(t / step) * step) ?? 0));
  return out;
}

export interface Calibration {
  /** The standard profile's swept threshold: the detector's threshold. */
  threshold: number;
  results: NabCorpusScore[];
}

/** The served detector's NAB scores on a corpus and the threshold they choose (see above). */
export function calibrate(model: AnomalyModel, corpus: readonly CorpusSeries[]): Calibration {
  const files: NabCorpusFile[] = corpus.map((s) => ({
    name: s.name,
    category: s.category,
    timestamps: s.timestamps,
    scores: rowScores(model, s.timestamps, s.values),
    windows: s.windows,
  }));
  const results = scoreCorpus(files);
  const standard = results.find((r) => r.profile === 'standard')!;
  // NAB's sweep starts at 1.1 (nothing detected); a served score never exceeds 1.
  return { threshold: Math.min(1, standard.threshold), results };
}

export interface AlertRate {
  series: number;
  /** Series-weeks of scored points. */
  seriesWeeks: number;
  /** Runs of consecutive points at or over the threshold. */
  pages: number;
  pagesPerSeriesWeek: number;
  /** Share of scored points at or over the threshold. */
  pointRate: number;
}

/** Pages per series-week at `threshold` over the scored points of evenly spaced segments (see above). */
export function alertRate(
  model: AnomalyModel,
  series: ReadonlyArray<{ step: number; segments: Array<{ start: number; step: number; values: number[] }> }>,
  threshold: number
): AlertRate {
  let seconds = 0;
  let points = 0;
  let over = 0;
  let pages = 0;
  let counted = 0;
  for (const s of series) {
    const scores = scoresIfAny(model, s.segments);
    if (!scores) continue;
    counted++;
    let prevT = -Infinity;
    let prevOver = false;
    for (const [t, x] of scores) {
      const contiguous = t - prevT === s.step;
      const isOver = x >= threshold;
      if (isOver && !(prevOver && contiguous)) pages++;
      if (isOver) over++;
      points++;
      seconds += s.step;
      prevT = t;
      prevOver = isOver;
    }
  }
  const seriesWeeks = seconds / (7 * 86400);
  return {
    series: counted,
    seriesWeeks,
    pages,
    pagesPerSeriesWeek: seriesWeeks > 0 ? pages / seriesWeeks : 0,
    pointRate: points > 0 ? over / points : 0,
  };
}

/** The served scores of a series' segments, or undefined when none is long enough to score. */
function scoresIfAny(
  model: AnomalyModel,
  segments: Array<{ start: number; step: number; values: number[] }>
): Array<[number, number]> | undefined {
  try {
    return scoreSegments(model, segments).scores;
  } catch (e) {
    if (e instanceof PrescalerError && e.code === 'insufficient_history') return undefined;
    throw e;
  }
}
