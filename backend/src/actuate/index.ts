/** Picks the actuator: dry-run unless PRESCALER_ACTUATOR=kubernetes (docs/api.md). */
import type { Config } from '../config';
import type { Store } from '../store/store';
import { DryRunActuator } from './dry-run';
import { KubernetesActuator } from './kubernetes';
import type { Actuator } from './types';

export type { Actuator, WorkloadState, Floor, ActResult } from './types';
export { DryRunActuator } from './dry-run';
export { KubernetesActuator } from './kubernetes';
export { ActuationService } from './service';

export function createActuator(config: Config, store: Store): Actuator {
  if (config.actuator === 'kubernetes') {
    return new KubernetesActuator({
      kubeconfig: config.kubeconfig,
      timeoutMs: config.limits.upstreamTimeout * 1000,
    });
  }
  return new DryRunActuator(store);
}
