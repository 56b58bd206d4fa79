/**
 * The three scaling policies the simulation compares, each deciding `scale.spec.replicas` once per tick
 * (the HPA sync period) for one workload whose pods become ready `startup` seconds after they are asked for.
 */
import {
  ceilReplicas,
  clamp,
  HpaPolicy,
  type ClusterParams,
  type History,
  type HpaParams,
} from './hpa-policy';
import type { ForecastTrack } from './forecasts';
import { PEAK_QUANTILE, peakToMeanRatio } from '../../recommend/peak';
import type { ForecastBand, ForecastPoint, Recommendation } from '../../recommend/replicas';
import { decideForTarget, type DecisionTarget } from '../../recommend/target';

/** What a policy sees of the simulated workload at a tick. */
export interface WorkloadView {
  /** Tick index in the segment and its Unix time. */
  k: number;
  t: number;
  /** Ask times of the current pods, ascending (every pod becomes ready at askedAt + startup). */
  pods: readonly number[];
}

export interface Policy {
  readonly name: string;
  /** Pods running (and ready) before the segment's first tick. */
  initialReplicas(): number;
  decide(view: WorkloadView): number;
}

export type BandChoice = ForecastBand;

/** What can be tuned of Prescaler (docs/definitions.md: its quantile, utilisation, lead and HPA target). */
export interface PrescalerSetting {
  /** The forecast band sized for. */
  quantile: ForecastBand;
  /** Utilisation a replica is planned to run at when demand reaches that band's peak. */
  utilization: number;
  /** HPA target behind the floor: HPA stays the safety net for what the forecast misses. */
  hpaTarget: number;
  /** The quantile of the peak-to-mean ratios that raises the forecast, or 'off' (default PEAK_QUANTILE). */
  peakQuantile?: number | 'off';
}

/** How the product is deployed around the decision: its loop, the floor it writes, and how it is approved. */
export interface Deployment {
  /** Seconds between evaluations (`evaluation.interval`). */
  interval: number;
  /** How long a written floor holds (`floorTtl`); rewritten at every evaluation while it is applied. */
  floorTtl: number;
  /** Seconds from a recommendation to its floor being written: 0 = auto-apply, else an SRE's delay. */
  approvalDelay: number;
  /** The recommendation's own scale-down stabilisation (`scaleDownStabilization`), seconds. */
  scaleDownStabilization: number;
  /** The recommendation's tolerance (`tolerance`). */
  tolerance: number;
  /** The recommendation's step limits (`maxStepUp`, `maxStepDown`); none by default. */
  maxStepUp?: number;
  maxStepDown?: number;
}

export interface PrescalerParams {
  forecasts: ForecastTrack;
  /** Cores per unit of the forecast (the demand scale). */
  scale: number;
  setting: PrescalerSetting;
  deployment: Deployment;
  /** A forecast older than this (seconds after its last bucket closed) is not used. */
  maxForecastAge: number;
  /** The forecaster's nominal band coverage, to name the band in reasons (p90). */
  nominal?: number;
}

/** The simulated workload as a configured target (config.ts TargetConfig): what the decision reads. */
export function simulatedTarget(cluster: ClusterParams, p: PrescalerParams): DecisionTarget {
  return {
    capacityPerReplica: cluster.capacityPerReplica,
    targetUtilization: p.setting.utilization,
    quantile: p.setting.quantile,
    minReplicas: cluster.minReplicas,
    maxReplicas: cluster.maxReplicas,
    startup: cluster.startup,
    scaleDownStabilization: p.deployment.scaleDownStabilization,
    tolerance: p.deployment.tolerance,
    maxStepUp: p.deployment.maxStepUp,
    maxStepDown: p.deployment.maxStepDown,
  };
}

/** Seconds of replayed demand the peak factor is learned from, and how often it is learned again. */
const PEAK_HISTORY = 86400;
const PEAK_RELEARN = 3600;

/**
 * Prescaler as the product runs it in front of an HPA: every `interval` the loop takes the newest forecast
 * it could have read, calls the product's decision (`recommendReplicas`) and writes the result as the HPA's
 * `minReplicas` floor (after `approvalDelay`, for `floorTtl`); the HPA keeps syncing every tick behind that
 * floor at `hpaTarget`. A forecast is usable once its last bucket has closed and the sample reached
 * Prometheus (`metricLag` later). Without a usable forecast the floor lapses and HPA alone decides.
 */
export class PrescalerPolicy implements Policy {
  readonly name = 'prescaler';
  private readonly hpaPolicy: HpaPolicy;
  private readonly target: DecisionTarget;
  private readonly everyTicks: number;
  private next = 0;
  private recent: Array<{ at: number; replicas: number }> = [];
  /** Floors decided, in order: each holds from `from` until `until` or until the next one starts. */
  private floors: Array<{ from: number; until: number; replicas: number }> = [];
  private peakFactor = 1;
  private peakLearnedAt = -Infinity;
  /** The last decision, for tests and traces. */
  last?: Recommendation;
  /** Every decision's time, planned demand (band × peak factor, cores) and lead: what its coverage is scored on. */
  readonly decisions: Array<{ t: number; demand: number; leadTime: number }> = [];

  constructor(
    private readonly hist: History,
    private readonly cluster: ClusterParams,
    private readonly hpa: HpaParams,
    private readonly p: PrescalerParams
  ) {
    const d = p.deployment;
    if (!(d.interval > 0 && Number.isInteger(d.interval / cluster.tick)))
      throw new RangeError(
        `interval ${d.interval} s must be a positive multiple of the ${cluster.tick} s sync`
      );
    this.hpaPolicy = new HpaPolicy(hist, cluster, hpa, 'prescaler');
    this.target = simulatedTarget(cluster, p);
    this.everyTicks = d.interval / cluster.tick;
  }

  initialReplicas(): number {
    return this.hpaPolicy.initialReplicas();
  }

  /** Index of the newest usable forecast at t, or -1. */
  private forecastAt(t: number): number {
    const { origins, step } = this.p.forecasts;
    const usableAt = (i: number) => origins[i] + step + this.hpa.metricLag;
    // Ticks only move forward within a segment; segments start fresh policies.
    while (this.next < origins.length && usableAt(this.next) <= t) this.next++;
    const i = this.next - 1;
    if (i < 0 || t - (origins[i] + step) > this.p.maxForecastAge) return -1;
    return i;
  }

  /** True when a forecast is usable at t (the scored part of a segment starts at the first such tick). */
  hasForecastAt(t: number): boolean {
    return this.forecastAt(t) >= 0;
  }

  /**
   * The forecast of row i as the live loop hands it to the decision: [t, mean, lower, upper] in cores, each
   * point at the end of the bucket it describes (a Prometheus sample describes the window that ends at its
   * timestamp), counted from the end of the last observed bucket.
   */
  private forecastPoints(i: number): { origin: number; points: ForecastPoint[] } {
    const { origins, step, horizons, mean, lower, upper } = this.p.forecasts;
    const s = this.p.scale;
    const origin = origins[i] + step;
    const points: ForecastPoint[] = [];
    for (let h = 1; h <= horizons; h++) {
      const j = i * horizons + h - 1;
      points.push([origin + h * step, mean[j] * s, lower[j] * s, upper[j] * s]);
    }
    return { origin, points };
  }

  /** Learns the peak-to-mean ratio from the demand replayed so far, as the loop reads it (metricLag late). */
  private learnPeak(k: number, t: number): void {
    const q = this.p.setting.peakQuantile ?? PEAK_QUANTILE;
    if (q === 'off' || t - this.peakLearnedAt < PEAK_RELEARN) return;
    this.peakLearnedAt = t;
    const tick = this.hist.tick;
    const end = k - Math.ceil(this.hpa.metricLag / tick - 1e-9);
    const from = Math.max(0, end - Math.round(PEAK_HISTORY / tick));
    const perBucket = Math.max(1, Math.round(this.p.forecasts.step / tick));
    if (end <= from) return;
    const demand = this.hist.demand;
    const values = ArrayBuffer.isView(demand)
      ? (demand as unknown as Float64Array).subarray(from, end)
      : Array.prototype.slice.call(demand, from, end);
    this.peakFactor = peakToMeanRatio(values, perBucket, q);
  }

  /**
   * The product's decision (`decideForTarget`) for forecast row i at `now`, in the given state: what the live
   * loop would decide from the same forecast, replicas, recent counts and peak factor.
   */
  decisionFor(
    i: number,
    now: number,
    currentReplicas: number,
    recent: ReadonlyArray<{ at: number; replicas: number }>,
    peakFactor: number
  ): Recommendation {
    const f = this.forecastPoints(i);
    return decideForTarget(this.target, {
      interval: this.p.deployment.interval,
      metricLag: this.hpa.metricLag,
      origin: f.origin,
      now,
      forecast: f.points,
      currentReplicas,
      recent,
      peakFactor,
      nominal: this.p.nominal,
    });
  }

  /** One evaluation of the loop at tick k: the decision, written as a floor. */
  evaluate(k: number, t: number, currentReplicas: number): Recommendation | undefined {
    const i = this.forecastAt(t);
    if (i < 0) return undefined;
    this.learnPeak(k, t);
    const d = this.p.deployment;
    this.recent = this.recent.filter((r) => r.at >= t - d.scaleDownStabilization);
    const rec = this.decisionFor(i, t, currentReplicas, this.recent, this.peakFactor);
    this.recent.push({ at: t, replicas: rec.desiredReplicas });
    const from = t + d.approvalDelay;
    this.floors.push({ from, until: from + d.floorTtl, replicas: rec.recommendedReplicas });
    this.last = rec;
    this.decisions.push({ t, demand: rec.demand, leadTime: rec.leadTime });
    return rec;
  }

  /** The HPA's minReplicas at t: the newest floor in force, else the target's own minimum. */
  floorAt(t: number): number {
    // Floors start in decision order; drop those a newer one has replaced.
    while (this.floors.length > 1 && this.floors[1].from <= t) this.floors.shift();
    const f = this.floors[0];
    return f && f.from <= t && t < f.until
      ? Math.max(f.replicas, this.cluster.minReplicas)
      : this.cluster.minReplicas;
  }

  decide(view: WorkloadView): number {
    if (view.k % this.everyTicks === 0) this.evaluate(view.k, view.t, view.pods.length);
    return this.hpaPolicy.sync(view, this.p.setting.hpaTarget, this.floorAt(view.t));
  }
}

/**
 * Knows the demand ahead exactly and pays the same start-up: at every tick it asks for the replicas the
 * highest demand until its new pods could be ready needs at 100 %, so it never violates (up to ticks).
 */
export class OraclePolicy implements Policy {
  readonly name = 'oracle';
  private readonly want: Int32Array;

  constructor(
    demand: ArrayLike<number>,
    private readonly cluster: ClusterParams
  ) {
    const n = demand.length;
    const ahead = Math.ceil(cluster.startup / cluster.tick - 1e-9);
    this.want = new Int32Array(n);
    // Sliding maximum over [k, k + ahead] with a monotone deque.
    const dq: number[] = [];
    let head = 0;
    let j = 0;
    for (let k = 0; k < n; k++) {
      while (j < n && j <= k + ahead) {
        while (dq.length > head && demand[dq[dq.length - 1]] <= demand[j]) dq.pop();
        dq.push(j++);
      }
      while (dq[head] < k) head++;
      this.want[k] = clamp(
        ceilReplicas(demand[dq[head]], cluster.capacityPerReplica),
        cluster.minReplicas,
        cluster.maxReplicas
      );
    }
  }

  initialReplicas(): number {
    return this.want[0];
  }

  decide(view: WorkloadView): number {
    return this.want[view.k];
  }
}
