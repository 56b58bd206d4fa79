/**
 * The simulated cluster and the HPA as a policy: what the controller sees of the pods (`observePods`, the
 * replica calculator's grouping of pods) and one HPA object deciding `scale.spec.replicas` every sync.
 */
import { HPA_DEFAULTS, HpaController, hpaDesiredReplicas } from './hpa';
import type { HpaBehavior } from './hpa';
import type { Policy, WorkloadView } from './policies';

export interface ClusterParams {
  tick: number;
  capacityPerReplica: number;
  /** Seconds from asking for a pod to it being Ready. */
  startup: number;
  /**
   * Seconds of `startup` the pod spends in phase Pending (scheduling, image pull) before its containers run;
   * the rest is the application starting, Running but not Ready. Default 0 (a node with room, image cached).
   */
  pending?: number;
  minReplicas: number;
  maxReplicas: number;
}

export interface HpaParams {
  targetUtilization: number;
  tolerance: number;
  /** Seconds between the usage a sample describes and the sync that reads it (metrics-server staleness). */
  metricLag: number;
  /** The sample's window (metrics-server resolution): a pod has a sample once its containers ran this long. */
  metricWindow: number;
  /** `--horizontal-pod-autoscaler-cpu-initialization-period`, seconds from the pod's start. */
  cpuInitializationPeriod: number;
  /** `--horizontal-pod-autoscaler-initial-readiness-delay`, seconds (default 30). */
  initialReadinessDelay?: number;
  /** `spec.behavior`; `null` = an HPA without `behavior` (the controller's older normalisation). */
  behavior: HpaBehavior | null;
  /** `--horizontal-pod-autoscaler-downscale-stabilization`, seconds (default 300; only without `behavior`). */
  downscaleStabilization?: number;
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
 * The HPA's view of pod metrics at sync time t, grouped the way the replica calculator groups pods
 * (replica_calculator.go groupPods), for one pod asked for at `askedAt`:
 * - the pod's StartTime is `askedAt` (the kubelet takes it at once); it is Pending until `askedAt + pending`,
 *   Running after that, and Ready from `askedAt + startup` (its Ready condition's LastTransitionTime; until
 *   then the condition is False since StartTime). Pods never turn unready again here.
 * - the metrics API answers with the sample metrics-server took `metricLag` before the sync, with Timestamp
 *   m = t − metricLag and Window `metricWindow`; a pod has a sample once its containers had run a full
 *   window by then (Running ≤ m − window). A sample's utilisation is the demand at m shared over the pods
 *   serving at m (the ready count the simulation recorded for that tick), at most `utilizationCap` (the CPU
 *   limit: demand above that is unserved, not reported); a pod not yet Ready at m served nothing (0).
 * Then, in groupPods' order:
 * 1. phase Pending → unready (`ignored` here: left out, 0 % on a scale-up);
 * 2. no sample → missing;
 * 3. CPU readiness: within `cpuInitializationPeriod` of StartTime the pod is unready if it is not Ready or its
 *    sample is older than Ready + one window; after it, only if it is not Ready and has never been (its Ready
 *    condition last changed before StartTime + initialReadinessDelay);
 * 4. otherwise its sample counts.
 */
export function observePods(
  t: number,
  pods: readonly number[],
  hist: History,
  cluster: ClusterParams,
  hpa: HpaParams
): { utilizations: number[]; ignored: number; missing: number } {
  const m = t - hpa.metricLag;
  const k = Math.round((t - hist.start) / hist.tick);
  const km = Math.floor((m - hist.start) / hist.tick + 1e-9);
  // The state the sample saw: the tick at or before m (demand and readiness hold for a whole tick).
  const sampleTick = hist.start + km * hist.tick;
  let demandAtM: number;
  let readyAtM: number;
  if (km < 0) {
    demandAtM = hist.demand[0];
    readyAtM = hist.initialReady;
  } else if (km >= k) {
    // A sample as fresh as this sync: the pods as they are now, before this sync's decision is recorded.
    demandAtM = hist.demand[k];
    readyAtM = 0;
    for (const askedAt of pods) if (askedAt + cluster.startup <= t) readyAtM++;
  } else {
    demandAtM = hist.demand[km];
    readyAtM = hist.ready[km];
  }
  const perPod =
    readyAtM > 0 ? Math.min(hpa.utilizationCap, demandAtM / (readyAtM * cluster.capacityPerReplica)) : 0;
  const pending = Math.min(cluster.pending ?? 0, cluster.startup);
  const initialReadinessDelay = hpa.initialReadinessDelay ?? HPA_DEFAULTS.initialReadinessDelay;
  const utilizations: number[] = [];
  let ignored = 0;
  let missing = 0;
  for (const askedAt of pods) {
    const startTime = askedAt;
    const runningAt = askedAt + pending;
    const readyAt = askedAt + cluster.startup;
    const ready = readyAt <= t;
    if (runningAt > t) {
      ignored++; // Pending
      continue;
    }
    if (runningAt > m - hpa.metricWindow) {
      missing++; // no sample yet
      continue;
    }
    let unready: boolean;
    if (startTime + hpa.cpuInitializationPeriod > t) {
      unready = !ready || m < readyAt + hpa.metricWindow;
    } else {
      // Never Ready: its Ready condition has been False since StartTime (LastTransitionTime = StartTime).
      const lastTransition = ready ? readyAt : startTime;
      unready = !ready && startTime + initialReadinessDelay > lastTransition;
    }
    if (unready) ignored++;
    else utilizations.push(readyAt <= sampleTick ? perPod : 0);
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
      downscaleStabilization: hpa.downscaleStabilization,
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
