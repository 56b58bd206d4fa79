/**
 * Replays a demand trace through the Kubernetes HPA, Prescaler and an oracle (docs/definitions.md) — pure: plain
 * data in, plain data out.
 *
 * Use (CLI and `POST /api/whatif` alike):
 *   const track = await forecastTrack(points, forecaster);        // forecasts.ts: every origin, one batch
 *   const sim = simulateAll(points, track, { startup: 120 });     // rows for hpa, prescaler, oracle
 *   sim.results → [{policy, replicaHours, violationMinutes, lateScaleUps, meanRecoveryMinutes}]
 * Pass `null` for the track to simulate only `hpa` and `oracle`.
 *
 * `points` are [unix seconds, value] in any unit, any order; non-finite values are dropped. Demand is the
 * trace linearly interpolated onto 15 s ticks and scaled so its peak needs `peakReplicas` replicas at 100 %
 * of `capacityPerReplica`. A gap (> 2 median spacings) splits the trace: each contiguous segment is simulated
 * on its own, every policy starting it in its own steady state, and the figures are summed over segments.
 * With a forecast track, figures count only from the first tick of a segment at which Prescaler has a usable
 * forecast (the same ticks for every policy), so its warm-up is not scored; segments without one are left out.
 * Bad input (fewer than 2 points, negative or all-zero demand, no segment to evaluate) throws
 * PrescalerError('bad_request' | 'insufficient_history').
 */
import { PrescalerError } from '../../errors';
import { PEAK_QUANTILE } from '../../recommend/peak';
import type { Point } from '../../series/types';
import { demandSegments, type DemandSegment } from './demand';
import type { ForecastTrack } from './forecasts';
import { DEFAULT_BEHAVIOR, HPA_DEFAULTS, type HpaBehavior } from './hpa';
import {
  combineFigures,
  segmentFigures,
  type PolicyDetail,
  type PolicyResult,
  type SegmentFigures,
} from './metrics';
import { HpaPolicy, type ClusterParams, type HpaParams } from './hpa-policy';
import {
  OraclePolicy,
  PrescalerPolicy,
  type BandChoice,
  type Policy,
  type PrescalerParams,
  type PrescalerSetting,
} from './policies';

export interface SimulationOptions {
  /** Seconds per tick = the HPA sync period. */
  tick: number;
  peakReplicas: number;
  capacityPerReplica: number;
  /** Seconds from asking for a pod to it being Ready. */
  startup: number;
  /** HPA target utilisation (fraction; `--target` on the CLI). */
  hpaTargetUtilization: number;
  minReplicas: number;
  maxReplicas: number;
  tolerance: number;
  metricLag: number;
  metricWindow: number;
  cpuInitializationPeriod: number;
  /** The HPA's spec.behavior; null = an HPA without one (the controller's older normalizeDesiredReplicas path). */
  behavior: HpaBehavior | null;
  utilizationCap: number;
  /** Prescaler: which band of the forecast its decision sizes for. */
  quantile: BandChoice;
  /** Prescaler: utilisation its decision plans for at that band's peak (the target's `targetUtilization`). */
  floorUtilization: number;
  /** Prescaler: HPA target behind the floor (default: the HPA's own `hpaTargetUtilization`; higher trades headroom for cost). */
  prescalerTarget?: number;
  /** Prescaler: seconds between the loop's evaluations (`evaluation.interval`). */
  interval: number;
  /** Prescaler: how long a written floor holds (`floorTtl`). */
  floorTtl: number;
  /** Prescaler: seconds from a recommendation to its floor: 0 = auto-apply, more = an SRE approving. */
  approvalDelay: number;
  /** Prescaler: the quantile of the peak-to-mean ratios that raises the forecast, or 'off' (`peakQuantile`). */
  peakQuantile: number | 'off';
  /** Prescaler: its decision's scale-down stabilisation (`scaleDownStabilization`), seconds. */
  scaleDownStabilization: number;
  /** Prescaler: oldest usable forecast, seconds after its last bucket closed (default: one forecast step). */
  maxForecastAge?: number;
  /** The forecaster's nominal band coverage (names the band in reasons). */
  nominal?: number;
  /**
   * Demand is scaled so the peak of the points before this time (Unix seconds) needs `peakReplicas`; later
   * points (a test slice) then cannot change how earlier ones are replayed. Default: all points.
   */
  scaleUntil?: number;
  /** Return per-tick traces (for plots). */
  keepTraces: boolean;
}

export const SIMULATION_DEFAULTS: SimulationOptions = {
  tick: HPA_DEFAULTS.syncPeriod,
  peakReplicas: 20,
  capacityPerReplica: 1,
  startup: 120,
  hpaTargetUtilization: 0.7,
  minReplicas: 1,
  maxReplicas: 40,
  tolerance: HPA_DEFAULTS.tolerance,
  metricLag: 30,
  metricWindow: 15,
  cpuInitializationPeriod: HPA_DEFAULTS.cpuInitializationPeriod,
  behavior: DEFAULT_BEHAVIOR,
  utilizationCap: 1,
  quantile: 'upper',
  floorUtilization: 0.7,
  interval: 60,
  floorTtl: 1800,
  approvalDelay: 0,
  scaleDownStabilization: 300,
  peakQuantile: PEAK_QUANTILE,
  keepTraces: false,
};

export interface PolicyTrace {
  policy: string;
  /** Pods running before the first tick. */
  initial: number;
  ready: Int32Array;
  replicas: Int32Array;
  /** Prescaler's decisions: time, planned demand (cores) and lead time. */
  decisions?: PrescalerPolicy['decisions'];
}

export interface SegmentTrace {
  start: number;
  tick: number;
  /** First evaluated tick. */
  from: number;
  demand: Float64Array;
  policies: PolicyTrace[];
}

export interface SimulationResult {
  results: PolicyResult[];
  details: PolicyDetail[];
  /** Hours of ticks the figures cover. */
  evaluatedHours: number;
  segments: number;
  /** Segments too short to simulate or with no usable forecast. */
  skippedSegments: number;
  /** Cores per unit of the trace's value. */
  demandScale: number;
  options: Omit<SimulationOptions, 'behavior' | 'keepTraces'> & {
    maxForecastAge: number;
    prescalerTarget: number;
  };
  traces?: SegmentTrace[];
}

function check(ok: boolean, message: string): void {
  if (!ok) throw new PrescalerError('bad_request', message);
}

function validate(o: SimulationOptions): void {
  check(o.tick > 0, 'tick must be > 0');
  check(o.peakReplicas > 0, 'peakReplicas must be > 0');
  check(o.capacityPerReplica > 0, 'capacityPerReplica must be > 0');
  check(o.startup >= 0, 'startup must be ≥ 0');
  check(o.hpaTargetUtilization > 0 && o.hpaTargetUtilization <= 1, 'target must be in (0, 1]');
  check(
    o.prescalerTarget === undefined || (o.prescalerTarget > 0 && o.prescalerTarget <= 1),
    'prescalerTarget must be in (0, 1]'
  );
  check(o.floorUtilization > 0 && o.floorUtilization <= 1.5, 'floorUtilization must be in (0, 1.5]');
  check(
    o.interval > 0 && Number.isInteger(o.interval / o.tick),
    `interval must be a positive multiple of the ${o.tick} s tick`
  );
  check(o.floorTtl > 0, 'floorTtl must be > 0');
  check(o.approvalDelay >= 0, 'approvalDelay must be ≥ 0');
  check(o.scaleDownStabilization >= 0, 'scaleDownStabilization must be ≥ 0');
  check(o.metricLag >= 0, 'metricLag must be ≥ 0');
  check(o.utilizationCap > 0, 'utilizationCap must be > 0');
  check(Number.isInteger(o.minReplicas) && o.minReplicas >= 1, 'minReplicas must be an integer ≥ 1');
  check(
    Number.isInteger(o.maxReplicas) && o.maxReplicas >= o.minReplicas,
    'maxReplicas must be an integer ≥ minReplicas'
  );
  check(['lower', 'mean', 'upper'].includes(o.quantile), 'quantile must be lower, mean or upper');
}

export function runPolicy(
  seg: DemandSegment,
  policy: Policy,
  startup: number,
  ready: Int32Array
): PolicyTrace {
  const n = seg.values.length;
  const replicas = new Int32Array(n);
  const pods: number[] = [];
  const initial = policy.initialReplicas();
  for (let i = initial; i > 0; i--) pods.push(-Infinity);
  let readyCount = pods.length;
  for (let k = 0; k < n; k++) {
    const t = seg.start + k * seg.tick;
    const want = policy.decide({ k, t, pods });
    while (pods.length < want) pods.push(t);
    // A ReplicaSet deletes not-yet-ready pods first, then the newest: the end of the ask-ordered list.
    while (pods.length > want) pods.pop();
    if (readyCount > pods.length) readyCount = pods.length;
    while (readyCount < pods.length && pods[readyCount] + startup <= t) readyCount++;
    ready[k] = readyCount;
    replicas[k] = pods.length;
  }
  return { policy: policy.name, initial, ready, replicas };
}

/** Everything a replay of one trace shares across policies and settings. */
export interface SimulationContext {
  o: SimulationOptions;
  split: ReturnType<typeof demandSegments>;
  cluster: ClusterParams;
  hpa: HpaParams;
  forecasts: ForecastTrack | null;
  maxForecastAge: number;
  prescalerTarget: number;
}

export function simulationContext(
  points: readonly Point[],
  forecasts: ForecastTrack | null,
  options: Partial<SimulationOptions> = {}
): SimulationContext {
  const o: SimulationOptions = { ...SIMULATION_DEFAULTS, ...options };
  validate(o);
  const prescalerTarget = o.prescalerTarget ?? o.hpaTargetUtilization;
  const maxForecastAge = o.maxForecastAge ?? forecasts?.step ?? 600;
  const split = demandSegments(points, {
    tick: o.tick,
    peakReplicas: o.peakReplicas,
    capacityPerReplica: o.capacityPerReplica,
    scaleUntil: o.scaleUntil,
  });
  const cluster: ClusterParams = {
    tick: o.tick,
    capacityPerReplica: o.capacityPerReplica,
    startup: o.startup,
    minReplicas: o.minReplicas,
    maxReplicas: o.maxReplicas,
  };
  const hpa: HpaParams = {
    targetUtilization: o.hpaTargetUtilization,
    tolerance: o.tolerance,
    metricLag: o.metricLag,
    metricWindow: o.metricWindow,
    cpuInitializationPeriod: o.cpuInitializationPeriod,
    behavior: o.behavior,
    utilizationCap: o.utilizationCap,
  };
  return { o, split, cluster, hpa, forecasts, maxForecastAge, prescalerTarget };
}

/** Prescaler's parameters for a setting (default: the options' own). */
export function prescalerParams(
  ctx: SimulationContext,
  setting?: Partial<PrescalerSetting>
): PrescalerParams {
  const { o } = ctx;
  return {
    forecasts: ctx.forecasts!,
    scale: ctx.split.scale,
    setting: {
      quantile: setting?.quantile ?? o.quantile,
      utilization: setting?.utilization ?? o.floorUtilization,
      hpaTarget: setting?.hpaTarget ?? ctx.prescalerTarget,
      peakQuantile: setting?.peakQuantile ?? o.peakQuantile,
    },
    deployment: {
      interval: o.interval,
      floorTtl: o.floorTtl,
      approvalDelay: o.approvalDelay,
      scaleDownStabilization: o.scaleDownStabilization,
      tolerance: o.tolerance,
    },
    maxForecastAge: ctx.maxForecastAge,
    nominal: o.nominal,
  };
}

/** The first tick of a segment at which Prescaler has a usable forecast, or -1 (none: the segment is not scored). */
export function firstForecastTick(ctx: SimulationContext, seg: DemandSegment): number {
  if (!ctx.forecasts) return 0;
  const hist = {
    start: seg.start,
    tick: seg.tick,
    demand: seg.values,
    ready: new Int32Array(0),
    initialReady: 0,
  };
  const probe = new PrescalerPolicy(hist, ctx.cluster, ctx.hpa, prescalerParams(ctx));
  for (let k = 0; k < seg.values.length; k++) if (probe.hasForecastAt(seg.start + k * seg.tick)) return k;
  return -1;
}

/** One policy replayed over one segment: `hpa` at `hpaTarget`, `prescaler` at a setting, or the `oracle`. */
export function replay(
  ctx: SimulationContext,
  seg: DemandSegment,
  policy:
    | { name: 'hpa'; hpaTarget?: number }
    | { name: 'prescaler'; setting?: Partial<PrescalerSetting> }
    | { name: 'oracle' }
): PolicyTrace {
  const ready = new Int32Array(seg.values.length);
  const hist = { start: seg.start, tick: seg.tick, demand: seg.values, ready, initialReady: 0 };
  let p: Policy;
  if (policy.name === 'hpa')
    p = new HpaPolicy(hist, ctx.cluster, {
      ...ctx.hpa,
      targetUtilization: policy.hpaTarget ?? ctx.hpa.targetUtilization,
    });
  else if (policy.name === 'oracle') p = new OraclePolicy(seg.values, ctx.cluster);
  else p = new PrescalerPolicy(hist, ctx.cluster, ctx.hpa, prescalerParams(ctx, policy.setting));
  hist.initialReady = p.initialReplicas();
  const trace = runPolicy(seg, p, ctx.o.startup, ready);
  return p instanceof PrescalerPolicy ? { ...trace, decisions: p.decisions } : trace;
}

export function simulateAll(
  points: readonly Point[],
  forecasts: ForecastTrack | null,
  options: Partial<SimulationOptions> = {}
): SimulationResult {
  const ctx = simulationContext(points, forecasts, options);
  const { o, split, maxForecastAge, prescalerTarget } = ctx;
  const names = forecasts ? ['hpa', 'prescaler', 'oracle'] : ['hpa', 'oracle'];
  const figures = new Map<string, SegmentFigures[]>(names.map((n) => [n, []]));
  const traces: SegmentTrace[] = [];
  let skipped = split.skippedSegments;
  let evaluatedSeconds = 0;

  for (const seg of split.segments) {
    const from = firstForecastTick(ctx, seg);
    if (from < 0) {
      skipped++;
      continue;
    }
    const policyTraces = names.map((name) => replay(ctx, seg, { name } as { name: 'hpa' }));
    policyTraces.forEach((pt, i) => {
      figures.get(names[i])!.push(
        segmentFigures(
          {
            tick: seg.tick,
            demand: seg.values,
            ready: pt.ready,
            replicas: pt.replicas,
            initialReplicas: pt.initial,
          },
          o.capacityPerReplica,
          o.startup,
          from
        )
      );
    });
    evaluatedSeconds += (seg.values.length - from) * seg.tick;
    if (o.keepTraces)
      traces.push({ start: seg.start, tick: seg.tick, from, demand: seg.values, policies: policyTraces });
  }

  if (evaluatedSeconds === 0) {
    throw new PrescalerError(
      'insufficient_history',
      forecasts
        ? `no segment of the trace is long enough for a forecast (the forecaster needs its history first)`
        : 'no segment of the trace is long enough to simulate'
    );
  }

  const results: PolicyResult[] = [];
  const details: PolicyDetail[] = [];
  for (const name of names) {
    const { result, detail } = combineFigures(name, figures.get(name)!);
    results.push(result);
    details.push(detail);
  }
  const { behavior: _b, keepTraces: _k, ...rest } = o;
  return {
    results,
    details,
    evaluatedHours: evaluatedSeconds / 3600,
    segments: split.segments.length,
    skippedSegments: skipped,
    demandScale: split.scale,
    options: { ...rest, maxForecastAge, prescalerTarget },
    ...(o.keepTraces ? { traces } : {}),
  };
}
