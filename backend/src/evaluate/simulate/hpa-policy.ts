/**
 * The simulated cluster and the HPA as a policy: what the controller sees of the pods (`observePods`, the
 * replica calculator's grouping of pods) and one HPA object deciding `scale.spec.replicas` every sync.
 */
import { HpaController, hpaDesiredReplicas } from './hpa';
import type { HpaBehavior } from './hpa';
import type { Policy, WorkloadView } from './policies';

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

export function clamp(x: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, x));
}

export function ceilReplicas(cores: number, perReplica: number): number {
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
