/**
 * The forecast backtest of docs/definitions.md: resample, scale per series on the first 80 %, roll an origin through
 * the last 20 %, score every model on the same (series, origin, horizon) triples.
 */
import { resample } from '../series/resample';
import { MinMaxScaler } from '../series/scaler';
import type { Point } from '../series/types';
import { seasonLength } from '../forecast/baselines';
import type { ForecastModel, ForecastOrigin, OriginForecast, TrainingPart } from '../forecast/model';
import { accuracy, coverage, mae, median, rmse } from './metrics';

export interface BacktestSeries {
  name: string;
  points: Point[];
}

export interface BacktestOptions {
  /** Seconds per resampled point. Default 600. */
  step?: number;
  /** Steps ahead scored: 1..horizons. Default 6. */
  horizons?: number;
  /** Share of each series' resampled points (by count) the scaler and the models are fitted on. Default 0.8. */
  trainFraction?: number;
  /** Origins per predict call. Default 8192. */
  batchSize?: number;
  /** Series whose test part is kept point by point for plots (indices into the input). */
  traceSeries?: number[];
  onProgress?: (message: string) => void;
}

export interface HorizonResult {
  model: string;
  /** Steps ahead. */
  horizon: number;
  /** Median over series of each series' rmse, scaled units. */
  rmse: number;
  /** Over all (series, origin) pairs, scaled units. */
  rmse_pooled: number;
  /** Median over series of each series' mae, scaled units. */
  mae: number;
  /** 1 − WAPE in original units, pooled. */
  accuracy: number;
  /** (series, origin) pairs scored. */
  n: number;
  /** Share of actuals inside [lower, upper]; only for models that give an interval. */
  coverage?: number;
}

export interface SeriesTrace {
  name: string;
  /** Times and original-unit values of the series' resampled test part (all its segments, in order). */
  times: number[];
  actual: number[];
  /** Per model: per origin (by time), forecasts in original units for horizons 1..H. */
  forecasts: Record<string, { origin: number; mean: number[]; lower?: number[]; upper?: number[] }[]>;
}

export interface BacktestResult {
  step: number;
  horizons: number;
  /** Series scored, and those left out with why. */
  series: number;
  skipped: { constant: string[]; tooShort: string[] };
  results: HorizonResult[];
  traces: SeriesTrace[];
}

export interface PreparedSeries {
  name: string;
  input: number;
  scaler: MinMaxScaler;
  /** Scaled segments, each with its first value's index into the series' resampled points. */
  segments: { start: number; offset: number; values: Float64Array }[];
  nTrain: number;
}

/** Resamples and scales a series; the scaler sees the training part only. */
export function prepareSeries(
  s: BacktestSeries,
  input: number,
  step: number,
  trainFraction: number
): PreparedSeries | 'constant' | 'tooShort' {
  const segs = resample(s.points, step);
  const total = segs.reduce((n, g) => n + g.values.length, 0);
  const nTrain = Math.floor(total * trainFraction);
  if (nTrain === 0 || nTrain === total) return 'tooShort';
  const scaler = MinMaxScaler.fit(segs.flatMap((g) => g.values).slice(0, nTrain));
  if (scaler.isConstant) return 'constant';
  let offset = 0;
  const segments = segs.map((g) => {
    const seg = { start: g.start, offset, values: Float64Array.from(g.values, (v) => scaler.transform(v)) };
    offset += g.values.length;
    return seg;
  });
  return { name: s.name, input, scaler, segments, nTrain };
}

function trainingPart(p: PreparedSeries): TrainingPart {
  const segments = [];
  for (const g of p.segments) {
    const end = Math.min(g.values.length, p.nTrain - g.offset);
    if (end <= 0) break;
    segments.push({ start: g.start, values: g.values.subarray(0, end) });
  }
  return { name: p.name, segments };
}

/**
 * The origins docs/definitions.md scores: in the test part, with at least `minHistory` points of the segment up to
 * and including the origin, and at least one horizon's target inside the segment. Which horizons count for
 * an origin is decided at scoring time (target index < segment length).
 */
export function forecastOrigins(
  p: PreparedSeries,
  series: number,
  step: number,
  minHistory: number
): ForecastOrigin[] {
  const origins: ForecastOrigin[] = [];
  p.segments.forEach((g, segment) => {
    const from = Math.max(minHistory - 1, p.nTrain - g.offset);
    for (let i = from; i < g.values.length - 1; i++) {
      origins.push({ series, segment, history: g.values.subarray(0, i + 1), time: g.start + i * step });
    }
  });
  return origins;
}

export async function backtest(
  input: BacktestSeries[],
  models: ForecastModel[],
  opts: BacktestOptions = {}
): Promise<BacktestResult> {
  const step = opts.step ?? 600;
  const H = opts.horizons ?? 6;
  const trainFraction = opts.trainFraction ?? 0.8;
  const batchSize = opts.batchSize ?? 8192;
  const minHistory = seasonLength(step);
  const progress = opts.onProgress ?? (() => {});
  if (new Set(models.map((m) => m.name)).size !== models.length)
    throw new Error('model names must be unique');

  const prepared: PreparedSeries[] = [];
  const skipped = { constant: [] as string[], tooShort: [] as string[] };
  input.forEach((s, i) => {
    const p = prepareSeries(s, i, step, trainFraction);
    if (p === 'constant') skipped.constant.push(s.name);
    else if (p === 'tooShort') skipped.tooShort.push(s.name);
    else prepared.push(p);
  });
  progress(
    `${prepared.length} series scored, ${skipped.constant.length} skipped (constant training part), ` +
      `${skipped.tooShort.length} skipped (too short)`
  );

  const parts = prepared.map(trainingPart);
  const origins = prepared.flatMap((p, i) => forecastOrigins(p, i, step, minHistory));

  const traced = new Set(opts.traceSeries ?? []);
  const traces = new Map<number, SeriesTrace>();
  for (const p of prepared) {
    if (!traced.has(p.input)) continue;
    const times: number[] = [];
    const actual: number[] = [];
    for (const g of p.segments) {
      for (let i = Math.max(0, p.nTrain - g.offset); i < g.values.length; i++) {
        times.push(g.start + i * step);
        actual.push(p.scaler.inverse(g.values[i]));
      }
    }
    traces.set(p.input, { name: p.name, times, actual, forecasts: {} });
  }

  const results: HorizonResult[] = [];
  for (const model of models) {
    const t0 = Date.now();
    if (model.fit) await model.fit(parts, { step, horizons: H });
    // Per horizon, per series: scaled actuals and forecasts; intervals where given.
    const act = Array.from({ length: H }, () => prepared.map(() => [] as number[]));
    const fc = Array.from({ length: H }, () => prepared.map(() => [] as number[]));
    const lo = Array.from({ length: H }, () => prepared.map(() => [] as number[]));
    const up = Array.from({ length: H }, () => prepared.map(() => [] as number[]));
    let withInterval = 0;
    for (let b = 0; b < origins.length; b += batchSize) {
      const batch = origins.slice(b, b + batchSize);
      const out: OriginForecast[] = await model.predict(batch, H);
      if (out.length !== batch.length)
        throw new Error(`${model.name} answered ${out.length} forecasts for ${batch.length} origins`);
      batch.forEach((o, k) => {
        const f = out[k];
        if (!f || f.mean.length < H) throw new Error(`${model.name} gave fewer than ${H} horizons`);
        const hasInterval = f.lower !== undefined && f.upper !== undefined;
        if (hasInterval) withInterval++;
        const values = prepared[o.series].segments[o.segment].values;
        const i = o.history.length - 1;
        for (let h = 1; h <= H && i + h < values.length; h++) {
          act[h - 1][o.series].push(values[i + h]);
          fc[h - 1][o.series].push(f.mean[h - 1]);
          if (hasInterval) {
            lo[h - 1][o.series].push(f.lower![h - 1]);
            up[h - 1][o.series].push(f.upper![h - 1]);
          }
        }
        const trace = traces.get(prepared[o.series].input);
        if (trace) {
          const sc = prepared[o.series].scaler;
          const inv = (a: ArrayLike<number>) => Array.from(a, (v) => sc.inverse(v)).slice(0, H);
          (trace.forecasts[model.name] ??= []).push({
            origin: o.time,
            mean: inv(f.mean),
            ...(hasInterval ? { lower: inv(f.lower!), upper: inv(f.upper!) } : {}),
          });
        }
      });
      progress(`${model.name}: ${Math.min(b + batchSize, origins.length)}/${origins.length} origins`);
    }
    if (withInterval !== 0 && withInterval !== origins.length) {
      throw new Error(`${model.name} gave an interval for some origins only`);
    }

    for (let h = 1; h <= H; h++) {
      const perRmse: number[] = [];
      const perMae: number[] = [];
      const allA: number[] = [];
      const allF: number[] = [];
      const origA: number[] = [];
      const origF: number[] = [];
      const allLo: number[] = [];
      const allUp: number[] = [];
      prepared.forEach((p, s) => {
        const a = act[h - 1][s];
        const f = fc[h - 1][s];
        if (a.length === 0) return;
        perRmse.push(rmse(a, f));
        perMae.push(mae(a, f));
        for (let k = 0; k < a.length; k++) {
          allA.push(a[k]);
          allF.push(f[k]);
          origA.push(p.scaler.inverse(a[k]));
          origF.push(p.scaler.inverse(f[k]));
        }
        for (const v of lo[h - 1][s]) allLo.push(v);
        for (const v of up[h - 1][s]) allUp.push(v);
      });
      const n = allA.length;
      const r: HorizonResult = {
        model: model.name,
        horizon: h,
        rmse: median(perRmse),
        rmse_pooled: n ? rmse(allA, allF) : NaN,
        mae: median(perMae),
        accuracy: n ? accuracy(origA, origF) : NaN,
        n,
      };
      if (withInterval > 0 && n) r.coverage = coverage(allA, allLo, allUp);
      results.push(r);
    }
    progress(`${model.name}: done in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  }

  return {
    step,
    horizons: H,
    series: prepared.length,
    skipped,
    results,
    traces: [...traces.values()],
  };
}
