/**
 * Cost at equal violations (docs/definitions.md): every series of a file replayed through HPA at each of its
 * settings, Prescaler at each of its settings and the oracle; each series split by time into warm-up
 * (first 70 %), validation (next 10 %) and test (last 20 %). Settings are chosen on the validation slice
 * only; every figure reported is the test slice's, pooled over the file's series. Pure: plain data in
 * (points and forecast tracks), plain data out.
 *
 * Nothing in the test slice can move a choice: the replay is causal (forecasts see only their past, the
 * policies decide tick by tick) and the demand scale is taken from the points before the test slice.
 */
import { PrescalerError } from '../../errors';
import { mulberry32 } from '../../series/random';
import type { Point } from '../../series/types';
import type { DemandSegment } from './demand';
import type { ForecastTrack } from './forecasts';
import { combineFigures, segmentFigures, type SegmentFigures } from './metrics';
import type { PrescalerSetting } from './policies';
import {
  firstForecastTick,
  replay,
  simulationContext,
  type PolicyTrace,
  type SimulationOptions,
} from './simulate';

/** The split of each series by time (docs/definitions.md "Cost at equal violations"). */
export const SLICES = { validation: 0.7, test: 0.8 } as const;
/** The violation budget: this fraction of the evaluated minutes. */
export const BUDGET_FRACTION = 0.001;
export const BOOTSTRAP_RESAMPLES = 1000;

/** HPA target utilisation 0.40…0.95 in steps of 0.05. */
export const HPA_TARGETS = Array.from({ length: 12 }, (_, i) => Math.round((0.4 + 0.05 * i) * 100) / 100);
/** The HPA setting most clusters run. */
export const DEFAULT_HPA_TARGET = 0.7;

/**
 * Prescaler's settings: the band it sizes for, the utilisation it plans at, the HPA target behind it, and
 * whether the series' peak-to-mean ratio raises the forecast (its 90th percentile) or not.
 */
export function prescalerSettings(): PrescalerSetting[] {
  const out: PrescalerSetting[] = [];
  for (const quantile of ['mean', 'upper'] as const)
    for (const utilization of [0.6, 0.7, 0.8, 0.9, 1])
      for (const hpaTarget of [0.7, 0.8, 0.9, 0.95])
        for (const peakQuantile of ['off', 0.9] as const)
          out.push({ quantile, utilization, hpaTarget, peakQuantile });
  return out;
}

/**
 * Where a frontier replay needs forecasts from: a day before the validation slice, which the replay starts
 * at, and an hour more for the first forecast to be usable.
 */
export function firstOriginNeeded(points: readonly Point[]): number {
  return sliceTimes(points).validation - WARM_UP - 3600;
}

export type Setting = { targetUtilization: number } | PrescalerSetting | Record<string, never>;

export interface FrontierPoint {
  setting: Setting;
  replicaHours: number;
  violationMinutes: number;
  lateScaleUps: number;
  meanRecoveryMinutes: number;
  /**
   * Prescaler only: the share of its decisions whose planned demand (the band's peak × peak factor) was at
   * least the actual peak demand over the decision's lead time: the band's coverage of the peak.
   */
  peakCoverage?: number;
}

export interface Comparison {
  hpa: FrontierPoint;
  prescaler: FrontierPoint;
  oracle: FrontierPoint;
  /** 1 − prescaler / hpa replica-hours, on the test slice. */
  saving: number;
  /** 95 % interval of `saving` from a bootstrap over whole days of the test slice. */
  savingCi95: [number, number];
  /** (hpa − prescaler) / (hpa − oracle) replica-hours; null where the oracle saves nothing. */
  gapCaptured: number | null;
  /** The validation-slice figures the two settings were chosen by. */
  chosenOn: { hpa: FrontierPoint; prescaler: FrontierPoint; violationLimit: number };
}

export interface FrontierResult {
  series: number;
  /** Hours of test slice pooled over the series. */
  evaluatedHours: number;
  validationHours: number;
  budget: { violationMinutes: number; validationViolationMinutes: number };
  frontier: { hpa: FrontierPoint[]; prescaler: FrontierPoint[] };
  oracle: FrontierPoint;
  /** The same on the validation slice: what the settings were chosen by. */
  validation: { frontier: { hpa: FrontierPoint[]; prescaler: FrontierPoint[] }; oracle: FrontierPoint };
  comparison: { tuned: Comparison; default: Comparison };
  /** Series left out (too short, no forecast before the validation slice), with why. */
  skipped: Array<{ series: string; reason: string }>;
  /** The first test day of the median series (by HPA@0.70's test cost), per minute, under the default comparison's settings. */
  sampleDay?: SampleDay;
}

/** Demand and the replicas each policy asked for over one day, one value per `step` seconds. */
export interface SampleDay {
  series: string;
  start: number;
  step: number;
  /** Cores (the replayed demand); capacity per replica is `capacityPerReplica`. */
  demand: number[];
  capacityPerReplica: number;
  replicas: { hpa: number[]; prescaler: number[]; oracle: number[] };
}

const SAMPLE_STEP = 60;

function sampleDay(
  input: FrontierInput,
  options: Partial<SimulationOptions>,
  policies: { hpa: Parameters<typeof replay>[2]; prescaler: Parameters<typeof replay>[2] }
): SampleDay | undefined {
  const times = sliceTimes(input.points);
  const ctx = simulationContext(input.points, input.track, { ...options, scaleUntil: times.test });
  for (const seg of ctx.split.segments) {
    const n = seg.values.length;
    const from = tickAfter(times.test, seg.start, seg.tick, n);
    const to = Math.min(n, from + Math.round(86400 / seg.tick));
    if (to - from < Math.round(3600 / seg.tick)) continue;
    const every = Math.max(1, Math.round(SAMPLE_STEP / seg.tick));
    const pick = (xs: ArrayLike<number>) => {
      const out: number[] = [];
      for (let k = from; k < to; k += every) out.push(xs[k]);
      return out;
    };
    return {
      series: input.name,
      start: seg.start + from * seg.tick,
      step: every * seg.tick,
      demand: pick(seg.values),
      capacityPerReplica: ctx.o.capacityPerReplica,
      replicas: {
        hpa: pick(replay(ctx, seg, policies.hpa).replicas),
        prescaler: pick(replay(ctx, seg, policies.prescaler).replicas),
        oracle: pick(replay(ctx, seg, { name: 'oracle' }).replicas),
      },
    };
  }
  return undefined;
}

export interface FrontierInput {
  name: string;
  points: readonly Point[];
  track: ForecastTrack;
}

export interface FrontierOptions {
  simulation?: Partial<SimulationOptions>;
  hpaTargets?: number[];
  settings?: PrescalerSetting[];
  resamples?: number;
  /** Seed of the bootstrap's generator. */
  seed?: number;
}

/** A policy at one setting over one series: figures on each slice, and replica-seconds per test day. */
interface SliceFigures {
  validation: SegmentFigures[];
  test: SegmentFigures[];
  /** Replica-seconds per (series, test day), keyed `${series}/${day}`. */
  days: Record<string, number>;
  /** Prescaler's decisions on each slice, and how many planned for at least the peak that came. */
  coverage: { validation: [covered: number, all: number]; test: [covered: number, all: number] };
}

type PolicyKey = string;

function emptySlices(): SliceFigures {
  return { validation: [], test: [], days: {}, coverage: { validation: [0, 0], test: [0, 0] } };
}

/**
 * Where a series' slices start, Unix seconds. The test slice starts just after the last point at or before
 * 80 % of the span: demand between two points is interpolated from both, so a validation tick must not
 * lie between a validation point and a test point.
 */
export function sliceTimes(points: readonly Point[]): {
  start: number;
  validation: number;
  test: number;
  end: number;
} {
  let start = Infinity;
  let end = -Infinity;
  for (const [t, v] of points) {
    if (!Number.isFinite(t) || !Number.isFinite(v)) continue;
    if (t < start) start = t;
    if (t > end) end = t;
  }
  const span = end - start;
  const boundary = start + SLICES.test * span;
  let cut = start;
  for (const [t, v] of points) if (Number.isFinite(v) && t <= boundary && t > cut) cut = t;
  return { start, validation: start + SLICES.validation * span, test: cut, end };
}

/** Seconds replayed before the validation slice, to warm the policies up. */
const WARM_UP = 86400;

function fromTick(seg: DemandSegment, k: number): DemandSegment {
  return k <= 0 ? seg : { start: seg.start + k * seg.tick, tick: seg.tick, values: seg.values.subarray(k) };
}

function tickAfter(t: number, segStart: number, tick: number, n: number): number {
  return Math.min(n, Math.max(0, Math.floor((t - segStart) / tick + 1e-9) + 1));
}

function tickAtOrAfter(t: number, segStart: number, tick: number, n: number): number {
  return Math.min(n, Math.max(0, Math.ceil((t - segStart) / tick - 1e-9)));
}

/**
 * Replays one series through every policy and setting and adds its slice figures to `acc`. Returns why
 * the series was left out, or undefined.
 */
/** One series replayed at every setting: what `combineReplays` pools. Plain data, so a worker can send it. */
export interface SeriesReplay {
  name: string;
  /** Why the series was left out, or its slices' lengths. */
  outcome: string | { validationSeconds: number; testSeconds: number };
  figures: Record<PolicyKey, SliceFigures>;
}

/** Replays one series through every policy at every setting of `opts` (the part a worker thread runs). */
export function replaySeries(input: FrontierInput, opts: FrontierOptions = {}): SeriesReplay {
  const figures: Record<PolicyKey, SliceFigures> = {};
  let outcome: SeriesReplay['outcome'];
  try {
    outcome = replayInto(input, policyKeys(opts), opts.simulation ?? {}, figures);
  } catch (e) {
    if (!(e instanceof PrescalerError)) throw e;
    outcome = e.message;
  }
  return { name: input.name, outcome, figures: typeof outcome === 'string' ? {} : figures };
}

function replayInto(
  input: FrontierInput,
  keys: Array<{ key: PolicyKey; policy: Parameters<typeof replay>[2] }>,
  options: Partial<SimulationOptions>,
  out: Record<PolicyKey, SliceFigures>
): { validationSeconds: number; testSeconds: number } | string {
  const times = sliceTimes(input.points);
  if (!(times.end > times.start)) return 'fewer than two finite points';
  const ctx = simulationContext(input.points, input.track, { ...options, scaleUntil: times.test });
  let validationSeconds = 0;
  let testSeconds = 0;
  const perSeries = new Map<PolicyKey, SliceFigures>(keys.map(({ key }) => [key, emptySlices()]));
  for (const whole of ctx.split.segments) {
    // The policies need only a day before the validation slice to reach their steady state (the longest
    // memory is the peak factor's day); the forecasts already saw all of the past.
    const seg = fromTick(
      whole,
      tickAtOrAfter(times.validation - WARM_UP, whole.start, whole.tick, whole.values.length)
    );
    const n = seg.values.length;
    // As in simulateAll, a segment is scored from its first tick with a usable forecast (the same ticks
    // for every policy): one that starts after a gap late in the trace may have none.
    const usable = firstForecastTick(ctx, seg);
    if (usable < 0) continue;
    const vFrom = Math.max(usable, tickAtOrAfter(times.validation, seg.start, seg.tick, n));
    const tFrom = Math.max(usable, tickAfter(times.test, seg.start, seg.tick, n));
    if (vFrom >= n) continue;
    validationSeconds += (tFrom - vFrom) * seg.tick;
    testSeconds += (n - tFrom) * seg.tick;
    for (const { key, policy } of keys) {
      const tr: PolicyTrace = replay(ctx, seg, policy);
      const trace = {
        tick: seg.tick,
        demand: seg.values,
        ready: tr.ready,
        replicas: tr.replicas,
        initialReplicas: tr.initial,
      };
      const f = perSeries.get(key)!;
      if (tFrom > vFrom)
        f.validation.push(segmentFigures(trace, ctx.o.capacityPerReplica, ctx.o.startup, vFrom, tFrom));
      if (n > tFrom) f.test.push(segmentFigures(trace, ctx.o.capacityPerReplica, ctx.o.startup, tFrom, n));
      for (const d of tr.decisions ?? []) {
        const k = Math.round((d.t - seg.start) / seg.tick);
        if (k < vFrom) continue;
        const to = Math.min(n - 1, k + Math.floor(d.leadTime / seg.tick + 1e-9));
        // A validation decision counts only when its lead ends there: the slices stay apart.
        if (k < tFrom && to >= tFrom) continue;
        const slice = k < tFrom ? f.coverage.validation : f.coverage.test;
        let peak = 0;
        for (let j = k; j <= to; j++) if (seg.values[j] > peak) peak = seg.values[j];
        slice[1]++;
        if (d.demand + 1e-9 >= peak) slice[0]++;
      }
      for (let k = tFrom; k < n; k++) {
        const day = `${input.name}/${Math.floor((seg.start + k * seg.tick - times.test) / 86400)}`;
        f.days[day] = (f.days[day] ?? 0) + tr.replicas[k] * seg.tick;
      }
    }
  }
  if (testSeconds === 0)
    return 'no usable forecast in the test slice (the forecaster needs more contiguous history before it)';
  for (const [key, f] of perSeries) out[key] = f;
  return { validationSeconds, testSeconds };
}

function point(setting: Setting, parts: SegmentFigures[], coverage?: [number, number]): FrontierPoint {
  const { result } = combineFigures('', parts);
  return {
    setting,
    replicaHours: result.replicaHours,
    violationMinutes: result.violationMinutes,
    lateScaleUps: result.lateScaleUps,
    meanRecoveryMinutes: result.meanRecoveryMinutes,
    ...(coverage && coverage[1] > 0 ? { peakCoverage: coverage[0] / coverage[1] } : {}),
  };
}

/**
 * The cheapest point whose violation minutes are within `limit`; where none is, the one with the fewest
 * violation minutes (then the cheapest). Returns its index.
 */
export function cheapestWithin(points: readonly FrontierPoint[], limit: number): number {
  let best = -1;
  for (let i = 0; i < points.length; i++) {
    const p = points[i];
    if (p.violationMinutes > limit + 1e-9) continue;
    if (best < 0 || p.replicaHours < points[best].replicaHours) best = i;
  }
  if (best >= 0) return best;
  for (let i = 0; i < points.length; i++) {
    const p = points[i];
    const b = points[best];
    if (
      best < 0 ||
      p.violationMinutes < b.violationMinutes - 1e-9 ||
      (Math.abs(p.violationMinutes - b.violationMinutes) <= 1e-9 && p.replicaHours < b.replicaHours)
    )
      best = i;
  }
  return best;
}

/**
 * 95 % percentile interval of 1 − Σprescaler / Σhpa over resamples (with replacement) of whole days: each
 * day is a unit, so a day's hours stay together.
 */
export function bootstrapSaving(
  days: ReadonlyArray<{ hpa: number; prescaler: number }>,
  resamples = BOOTSTRAP_RESAMPLES,
  seed = 1
): [number, number] {
  if (days.length === 0) return [NaN, NaN];
  const rand = mulberry32(seed); // seeded: the interval is the same on every run
  const savings = new Float64Array(resamples);
  for (let r = 0; r < resamples; r++) {
    let h = 0;
    let p = 0;
    for (let i = 0; i < days.length; i++) {
      const d = days[Math.floor(rand() * days.length)];
      h += d.hpa;
      p += d.prescaler;
    }
    savings[r] = h > 0 ? 1 - p / h : 0;
  }
  savings.sort();
  const at = (q: number) => savings[Math.min(resamples - 1, Math.max(0, Math.round(q * (resamples - 1))))];
  return [at(0.025), at(0.975)];
}

function policyKeys(
  opts: FrontierOptions
): Array<{ key: PolicyKey; policy: Parameters<typeof replay>[2]; setting: Setting }> {
  const hpaTargets = opts.hpaTargets ?? HPA_TARGETS;
  const settings = opts.settings ?? prescalerSettings();
  if (!hpaTargets.includes(DEFAULT_HPA_TARGET))
    throw new PrescalerError('bad_request', `the HPA targets must include the default ${DEFAULT_HPA_TARGET}`);
  const distinct = new Set([...hpaTargets.map(String), ...settings.map((s) => JSON.stringify(s))]);
  if (distinct.size !== hpaTargets.length + settings.length)
    throw new PrescalerError('bad_request', 'every HPA target and Prescaler setting must be given once');
  return [
    ...hpaTargets.map((h) => ({
      key: `hpa ${h}`,
      policy: { name: 'hpa' as const, hpaTarget: h },
      setting: { targetUtilization: h },
    })),
    ...settings.map((s) => ({
      key: `prescaler ${JSON.stringify(s)}`,
      policy: { name: 'prescaler' as const, setting: s },
      setting: s,
    })),
    { key: 'oracle', policy: { name: 'oracle' as const }, setting: {} },
  ];
}

export function costAtEqualViolations(
  inputs: readonly FrontierInput[],
  opts: FrontierOptions = {}
): FrontierResult {
  return combineReplays(
    inputs,
    inputs.map((i) => replaySeries(i, opts)),
    opts
  );
}

/** Pools the series' replays (in input order) into the figures and choices docs/definitions.md defines. */
export function combineReplays(
  inputs: readonly FrontierInput[],
  replays: readonly SeriesReplay[],
  opts: FrontierOptions = {}
): FrontierResult {
  const keys = policyKeys(opts);
  const acc = new Map<PolicyKey, SliceFigures>(keys.map(({ key }) => [key, emptySlices()]));
  const skipped: FrontierResult['skipped'] = [];
  let validationSeconds = 0;
  let testSeconds = 0;
  for (const r of replays) {
    if (typeof r.outcome === 'string') {
      skipped.push({ series: r.name, reason: r.outcome });
      continue;
    }
    validationSeconds += r.outcome.validationSeconds;
    testSeconds += r.outcome.testSeconds;
    for (const { key } of keys) {
      const a = acc.get(key)!;
      const f = r.figures[key];
      a.validation.push(...f.validation);
      a.test.push(...f.test);
      Object.assign(a.days, f.days);
      for (const slice of ['validation', 'test'] as const) {
        a.coverage[slice][0] += f.coverage[slice][0];
        a.coverage[slice][1] += f.coverage[slice][1];
      }
    }
  }
  if (testSeconds === 0 || validationSeconds === 0) {
    throw new PrescalerError(
      'insufficient_history',
      `no series has a validation and a test slice to score: ${skipped.map((s) => `${s.series}: ${s.reason}`).join('; ')}`
    );
  }

  const test = new Map(
    keys.map(({ key, setting }) => [key, point(setting, acc.get(key)!.test, acc.get(key)!.coverage.test)])
  );
  const val = new Map(
    keys.map(({ key, setting }) => [
      key,
      point(setting, acc.get(key)!.validation, acc.get(key)!.coverage.validation),
    ])
  );
  const hpaKeys = keys.filter((k) => k.key.startsWith('hpa ')).map((k) => k.key);
  const preKeys = keys.filter((k) => k.key.startsWith('prescaler ')).map((k) => k.key);
  const budgetVal = BUDGET_FRACTION * (validationSeconds / 60);
  const budgetTest = BUDGET_FRACTION * (testSeconds / 60);

  const compare = (hpaKey: PolicyKey, violationLimit: number): Comparison => {
    const preKey =
      preKeys[
        cheapestWithin(
          preKeys.map((k) => val.get(k)!),
          violationLimit
        )
      ];
    const h = test.get(hpaKey)!;
    const p = test.get(preKey)!;
    const o = test.get('oracle')!;
    const hDays = acc.get(hpaKey)!.days;
    const pDays = acc.get(preKey)!.days;
    const days = Object.keys(hDays).map((d) => ({ hpa: hDays[d], prescaler: pDays[d] ?? 0 }));
    const gap = h.replicaHours - o.replicaHours;
    return {
      hpa: h,
      prescaler: p,
      oracle: o,
      saving: 1 - p.replicaHours / h.replicaHours,
      savingCi95: bootstrapSaving(days, opts.resamples, opts.seed),
      gapCaptured: gap > 1e-9 ? (h.replicaHours - p.replicaHours) / gap : null,
      chosenOn: { hpa: val.get(hpaKey)!, prescaler: val.get(preKey)!, violationLimit },
    };
  };
  const tunedHpa =
    hpaKeys[
      cheapestWithin(
        hpaKeys.map((k) => val.get(k)!),
        budgetVal
      )
    ];
  const defaultHpa = `hpa ${DEFAULT_HPA_TARGET}`;
  const tuned = compare(tunedHpa, budgetVal);
  const byDefault = compare(defaultHpa, val.get(defaultHpa)!.violationMinutes);
  // The sample day is the median series by HPA@0.70's test replica-hours: neither the idlest nor the busiest.
  const scored = replays
    .filter((r) => typeof r.outcome !== 'string')
    .map((r) => ({ name: r.name, cost: point({}, r.figures[defaultHpa].test).replicaHours }))
    .sort((a, b) => a.cost - b.cost);
  const median = scored[Math.floor((scored.length - 1) / 2)];
  const first = median && inputs.find((i) => i.name === median.name);
  return {
    series: inputs.length - skipped.length,
    evaluatedHours: testSeconds / 3600,
    validationHours: validationSeconds / 3600,
    budget: { violationMinutes: budgetTest, validationViolationMinutes: budgetVal },
    frontier: { hpa: hpaKeys.map((k) => test.get(k)!), prescaler: preKeys.map((k) => test.get(k)!) },
    oracle: test.get('oracle')!,
    validation: {
      frontier: { hpa: hpaKeys.map((k) => val.get(k)!), prescaler: preKeys.map((k) => val.get(k)!) },
      oracle: val.get('oracle')!,
    },
    comparison: { tuned, default: byDefault },
    skipped,
    sampleDay:
      first &&
      sampleDay(first, opts.simulation ?? {}, {
        hpa: { name: 'hpa', hpaTarget: DEFAULT_HPA_TARGET },
        prescaler: { name: 'prescaler', setting: byDefault.prescaler.setting as PrescalerSetting },
      }),
  };
}
