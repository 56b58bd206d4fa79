/**
 * The three scaling policies the simulation compares, each deciding `scale.spec.replicas` once per tick
 * (the HPA sync period) for one workload whose pods become ready `startup` seconds after they are asked for.
 */
import { HpaController, hpaDesiredReplicas, type HpaBehavior } from './hpa';
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

export interface ClusterParams {
  tick: number;
  capacityPerReplica: number;
  startup: number;
  minReplicas: number;
  maxReplicas: number;
}

export interface HpaParams {
  targetUtilization: number;
  tolerance: number;
  /** Seconds between the usage a sample describes and the sync that reads it (metrics-server staleness). */
  metricLag: number;
  /** The metric sample's window: within the CPU initialisation period a pod's sample counts only if it starts this long after the pod became Ready. */
  metricWindow: number;
  cpuInitializationPeriod: number;
  behavior: HpaBehavior;
  /** Highest utilisation a pod can show (CPU limit / request); Infinity = no limit. */
  utilizationCap: number;
}

/**
 * Demand history a controller can read: demand and ready pods per tick so far, and the steady state
 * assumed before the first tick.
 */
export interface History {
  start: number;
  tick: number;
  demand: ArrayLike<number>;
  ready: ArrayLike<number>;
  initialReady: number;
}

function clamp(x: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, x));
}

function ceilReplicas(cores: number, perReplica: number): number {
  return Math.ceil(cores / perReplica - 1e-9);
}

/**
 * The HPA's view of pod metrics at sync time t: utilisation per pod from the sample taken `metricLag`
 * earlier, split the way the replica calculator splits pods (ready with a metric, ignored, missing).
 */
export function observePods(
  t: number,
  pods: readonly number[],
  hist: History,
  cluster: ClusterParams,
  hpa: HpaParams
): { utilizations: number[]; ignored: number; missing: number } {
  const m = t - hpa.metricLag;
  const km = Math.floor((m - hist.start) / hist.tick + 1e-9);
  let demandAtM: number;
  let readyAtM: number;
  if (km < 0) {
    demandAtM = hist.demand[0];
    readyAtM = hist.initialReady;
  } else {
    demandAtM = hist.demand[km];
    readyAtM = hist.ready[km];
  }
  const perPod =
    readyAtM > 0 ? Math.min(hpa.utilizationCap, demandAtM / (readyAtM * cluster.capacityPerReplica)) : 0;
  const utilizations: number[] = [];
  let ignored = 0;
  let missing = 0;
  for (const askedAt of pods) {
    const readyAt = askedAt + cluster.startup;
    if (readyAt > t) {
      // Pending or not Ready (and never Ready since start): left out.
      ignored++;
    } else if (t < askedAt + hpa.cpuInitializationPeriod) {
      // Inside the CPU initialisation period a sample counts only if taken a full window after Ready.
      if (m < readyAt + hpa.metricWindow) ignored++;
      else utilizations.push(perPod);
    } else if (askedAt > m) {
      missing++;
    } else {
      // A pod not yet Ready when the sample was taken served nothing then.
      utilizations.push(readyAt > m ? 0 : perPod);
    }
  }
  return { utilizations, ignored, missing };
}

/** Kubernetes HPA on CPU utilisation; `floor` (if given) is the minReplicas Prescaler sets per tick. */
export class HpaPolicy implements Policy {
  readonly name: string;
  private readonly controller: HpaController;

  constructor(
    private readonly hist: History,
    private readonly cluster: ClusterParams,
    private readonly hpa: HpaParams,
    name = 'hpa'
  ) {
    this.name = name;
    this.controller = new HpaController({
      minReplicas: cluster.minReplicas,
      maxReplicas: cluster.maxReplicas,
      behavior: hpa.behavior,
    });
  }

  initialReplicas(): number {
    const d0 = this.hist.demand[0];
    return clamp(
      ceilReplicas(d0, this.cluster.capacityPerReplica * this.hpa.targetUtilization),
      this.cluster.minReplicas,
      this.cluster.maxReplicas
    );
  }

  /** One sync with the given target and floor. */
  sync(view: WorkloadView, targetUtilization: number, floor: number): number {
    const obs = observePods(view.t, view.pods, this.hist, this.cluster, this.hpa);
    const metricDesired = hpaDesiredReplicas({
      currentReplicas: view.pods.length,
      targetUtilization,
      podUtilizations: obs.utilizations,
      ignoredPods: obs.ignored,
      missingPods: obs.missing,
      tolerance: this.hpa.tolerance,
    });
    return this.controller.reconcile(view.t, view.pods.length, metricDesired, floor);
  }

  decide(view: WorkloadView): number {
    return this.sync(view, this.hpa.targetUtilization, this.cluster.minReplicas);
  }
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
