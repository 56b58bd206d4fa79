/**
 * The default actuator: changes nothing in any cluster, remembers what it "set" (in the store, so the
 * remembered state survives restarts and crash reconciliation can read it like a cluster).
 */
import type { TargetConfig } from '../config';
import type { DryRunState, Store } from '../store/store';
import { planFloor } from './floor';
import {
  staleRecommendation,
  type ActResult,
  type Actuator,
  type ApplyOptions,
  type Floor,
  type WorkloadState,
} from './types';

const iso = (t: number) => new Date(t * 1000).toISOString().replace(/\.000Z$/, 'Z');

export class DryRunActuator implements Actuator {
  readonly kind = 'dry-run' as const;
  readonly dryRun = true;

  constructor(private readonly store: Store) {}

  private async state(t: TargetConfig): Promise<DryRunState> {
    return (await this.store.getDryRunState(t.name)) ?? { replicas: t.initialReplicas ?? t.minReplicas };
  }

  async read(t: TargetConfig): Promise<WorkloadState> {
    const s = await this.state(t);
    if (t.workload.kind !== 'HorizontalPodAutoscaler') return { replicas: s.replicas, setpoint: s.replicas };
    const min = s.floor?.replicas ?? t.minReplicas;
    return {
      replicas: Math.max(s.replicas, min),
      setpoint: min,
      floor: s.floor,
      hpa: { minReplicas: min, maxReplicas: t.maxReplicas },
    };
  }

  async apply(t: TargetConfig, replicas: number, opts: ApplyOptions): Promise<ActResult> {
    const s = await this.state(t);
    const where = `${t.namespace}/${t.workload.name}`;
    if (t.workload.kind !== 'HorizontalPodAutoscaler') {
      const stale = staleRecommendation(t, { replicas: s.replicas }, replicas, opts.expectedReplicas);
      if (stale) throw stale;
      await this.store.setDryRunState(t.name, { ...s, replicas });
      const resource = t.workload.kind === 'Deployment' ? 'deployments' : 'statefulsets';
      return {
        fromReplicas: s.replicas,
        detail: `dry run: would patch ${resource}/scale ${where}: spec.replicas ${s.replicas} → ${replicas}`,
      };
    }
    const fresh = await this.read(t);
    // The HPA modelled here has no spec.maxReplicas of its own: the service keeps counts within the target's.
    const plan = planFloor(
      { minReplicas: fresh.setpoint, maxReplicas: Infinity, floor: fresh.floor },
      replicas,
      opts
    );
    const from = plan.fromMinReplicas;
    const stale = staleRecommendation(
      t,
      { replicas: fresh.replicas, minReplicas: fresh.setpoint },
      replicas,
      opts.expectedReplicas,
      plan.minReplicas
    );
    if (stale) throw stale;
    if (!plan.floor) {
      await this.store.setDryRunState(t.name, { replicas: s.replicas });
      return {
        fromReplicas: from,
        detail: `dry run: ${replicas} is at or below the HPA's own minReplicas ${plan.originalMinReplicas}: no floor`,
      };
    }
    const { floor } = plan;
    await this.store.setDryRunState(t.name, { replicas: Math.max(s.replicas, replicas), floor });
    return {
      fromReplicas: from,
      detail: `dry run: would raise HPA ${where} minReplicas ${from} → ${replicas} until ${iso(floor.expiresAt)}`,
    };
  }

  async revertFloor(t: TargetConfig, floor: Floor): Promise<string> {
    const s = await this.state(t);
    await this.store.setDryRunState(t.name, { replicas: s.replicas });
    return `dry run: floor expired: HPA ${t.namespace}/${t.workload.name} minReplicas ${floor.replicas} → ${floor.originalMinReplicas}`;
  }
}
