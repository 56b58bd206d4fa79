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

export type BandChoice = 'lower' | 'mean' | 'upper';

export interface PrescalerParams {
  forecasts: ForecastTrack;
  /** Cores per unit of the forecast (the demand scale). */
  scale: number;
  quantile: BandChoice;
  /** Seconds ahead the floor covers; ≥ startup. */
  lead: number;
  /** Utilisation of a replica the floor plans for at the chosen quantile (1 = exactly full). */
  floorUtilization: number;
  /** HPA target while a forecast stands behind it; without one the plain HPA target applies. */
  targetUtilization: number;
  /** A forecast older than this (seconds after its last bucket closed) is not used. */
  maxForecastAge: number;
}

/**
 * Prescaler: sets the HPA's minReplicas from the forecast — replicas to carry the chosen quantile of every
 * forecast bucket overlapping [t, t + lead] — and leaves the HPA running behind that floor. A forecast is
 * usable once its last bucket has closed and the sample reached Prometheus (`metricLag` later).
 */
export class PrescalerPolicy implements Policy {
  readonly name = 'prescaler';
  private readonly hpaPolicy: HpaPolicy;
  private next = 0;

  constructor(
    hist: History,
    private readonly cluster: ClusterParams,
    private readonly hpa: HpaParams,
    private readonly p: PrescalerParams
  ) {
    if (p.lead < cluster.startup)
      throw new RangeError(`lead ${p.lead} s is shorter than pod start-up ${cluster.startup} s`);
    this.hpaPolicy = new HpaPolicy(hist, cluster, hpa, 'prescaler');
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

  /** The floor at t, or null without a usable forecast. */
  floorAt(t: number): number | null {
    const i = this.forecastAt(t);
    if (i < 0) return null;
    const { origins, step, horizons } = this.p.forecasts;
    const band = this.p.forecasts[this.p.quantile];
    const T = origins[i];
    const hFrom = Math.max(1, Math.floor((t - T) / step));
    const hTo = Math.min(horizons, Math.floor((t + this.p.lead - T) / step));
    let peak = 0;
    for (let h = hFrom; h <= Math.max(hFrom, hTo) && h <= horizons; h++) {
      peak = Math.max(peak, band[i * horizons + h - 1] * this.p.scale);
    }
    return clamp(
      ceilReplicas(peak, this.cluster.capacityPerReplica * this.p.floorUtilization),
      this.cluster.minReplicas,
      this.cluster.maxReplicas
    );
  }

  decide(view: WorkloadView): number {
    const floor = this.floorAt(view.t);
    if (floor === null) return this.hpaPolicy.decide(view);
    return this.hpaPolicy.sync(view, this.p.targetUtilization, floor);
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
