/**
 * Replays a demand trace through the Kubernetes HPA, Prescaler and an oracle (DESIGN §3) — pure: plain
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
import { OraclePolicy, PrescalerPolicy, type BandChoice, type Policy } from './policies';

export interface SimulationOptions {
  /** Seconds per tick = the HPA sync period. */
  tick: number;
  peakReplicas: number;
  capacityPerReplica: number;
  /** Seconds from asking for a pod to it being Ready. */
  startup: number;
  /** HPA target utilisation (fraction). */
  target: number;
  minReplicas: number;
  maxReplicas: number;
  tolerance: number;
  metricLag: number;
  metricWindow: number;
  cpuInitializationPeriod: number;
  behavior: HpaBehavior;
  utilizationCap: number;
  /** Prescaler: which band of the forecast sets the floor. */
  quantile: BandChoice;
  /** Prescaler: seconds ahead its floor covers (≥ startup; default = startup). */
  lead?: number;
  /** Prescaler: utilisation the floor plans for at the chosen quantile. */
  floorUtilization: number;
  /** Prescaler: HPA target behind the floor (default: the HPA's own `target`; higher trades headroom for cost). */
  prescalerTarget?: number;
  /** Prescaler: oldest usable forecast, seconds after its last bucket closed (default: one forecast step). */
  maxForecastAge?: number;
  /** Return per-tick traces (for plots). */
  keepTraces: boolean;
}

export const SIMULATION_DEFAULTS: SimulationOptions = {
  tick: HPA_DEFAULTS.syncPeriod,
  peakReplicas: 20,
  capacityPerReplica: 1,
  startup: 120,
  target: 0.7,
  minReplicas: 1,
  maxReplicas: 40,
  tolerance: HPA_DEFAULTS.tolerance,
  metricLag: 60,
  metricWindow: 15,
  cpuInitializationPeriod: HPA_DEFAULTS.cpuInitializationPeriod,
  behavior: DEFAULT_BEHAVIOR,
  utilizationCap: Infinity,
  quantile: 'upper',
  floorUtilization: 1,
  keepTraces: false,
};

export interface PolicyTrace {
  policy: string;
  /** Pods running before the first tick. */
  initial: number;
  ready: Int32Array;
  replicas: Int32Array;
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
    lead: number;
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
  check(o.target > 0 && o.target <= 1, 'target must be in (0, 1]');
  check(
    o.prescalerTarget === undefined || (o.prescalerTarget > 0 && o.prescalerTarget <= 1),
    'prescalerTarget must be in (0, 1]'
  );
  check(o.floorUtilization > 0, 'floorUtilization must be > 0');
  check(Number.isInteger(o.minReplicas) && o.minReplicas >= 1, 'minReplicas must be an integer ≥ 1');
  check(
    Number.isInteger(o.maxReplicas) && o.maxReplicas >= o.minReplicas,
    'maxReplicas must be an integer ≥ minReplicas'
  );
  check(['lower', 'mean', 'upper'].includes(o.quantile), 'quantile must be lower, mean or upper');
}

function runPolicy(seg: DemandSegment, policy: Policy, startup: number, ready: Int32Array): PolicyTrace {
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

export function simulateAll(
  points: readonly Point[],
  forecasts: ForecastTrack | null,
  options: Partial<SimulationOptions> = {}
): SimulationResult {
  const o: SimulationOptions = { ...SIMULATION_DEFAULTS, ...options };
  validate(o);
  const lead = o.lead ?? o.startup;
  check(lead >= o.startup, `lead (${lead} s) must be ≥ startup (${o.startup} s)`);
  const prescalerTarget = o.prescalerTarget ?? o.target;
  const maxForecastAge = o.maxForecastAge ?? forecasts?.step ?? 600;

  const split = demandSegments(points, {
    tick: o.tick,
    peakReplicas: o.peakReplicas,
    capacityPerReplica: o.capacityPerReplica,
  });
  const cluster: ClusterParams = {
    tick: o.tick,
    capacityPerReplica: o.capacityPerReplica,
    startup: o.startup,
    minReplicas: o.minReplicas,
    maxReplicas: o.maxReplicas,
  };
  const hpa: HpaParams = {
    targetUtilization: o.target,
    tolerance: o.tolerance,
    metricLag: o.metricLag,
    metricWindow: o.metricWindow,
    cpuInitializationPeriod: o.cpuInitializationPeriod,
    behavior: o.behavior,
    utilizationCap: o.utilizationCap,
  };

  const prescalerParams = forecasts && {
    forecasts,
    scale: split.scale,
    quantile: o.quantile,
    lead,
    floorUtilization: o.floorUtilization,
    targetUtilization: prescalerTarget,
    maxForecastAge,
  };
  const names = forecasts ? ['hpa', 'prescaler', 'oracle'] : ['hpa', 'oracle'];
  const figures = new Map<string, SegmentFigures[]>(names.map((n) => [n, []]));
  const traces: SegmentTrace[] = [];
  let skipped = split.skippedSegments;
  let evaluatedSeconds = 0;

  for (const seg of split.segments) {
    const n = seg.values.length;
    const policyTraces: PolicyTrace[] = [];
    let from = 0;
    for (const name of names) {
      const ready = new Int32Array(n);
      const hist = { start: seg.start, tick: seg.tick, demand: seg.values, ready, initialReady: 0 };
      let policy: Policy;
      if (name === 'hpa') policy = new HpaPolicy(hist, cluster, hpa);
      else if (name === 'oracle') policy = new OraclePolicy(seg.values, cluster);
      else {
        policy = new PrescalerPolicy(hist, cluster, hpa, prescalerParams!);
        // The first tick with a usable forecast starts the scored part of the segment.
        const probe = new PrescalerPolicy(hist, cluster, hpa, prescalerParams!);
        from = -1;
        for (let k = 0; k < n && from < 0; k++)
          if (probe.floorAt(seg.start + k * seg.tick) !== null) from = k;
      }
      hist.initialReady = policy.initialReplicas();
      policyTraces.push(runPolicy(seg, policy, o.startup, ready));
    }
    if (from < 0) {
      skipped++;
      continue;
    }
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
    evaluatedSeconds += (n - from) * seg.tick;
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
    options: { ...rest, lead, maxForecastAge, prescalerTarget },
    ...(o.keepTraces ? { traces } : {}),
  };
}
