/** The leader elector the configuration asks for (config.ts leaderElection, leader.ts). */
import type { Logger } from 'pino';
import type { Config } from './config';
import { PostgresLeader, SoleLeader, type LeaderElector } from './leader';
import { KubernetesLeaseLeader } from './leader-lease';

export function createElector(config: Config, logger: Logger): LeaderElector {
  const e = config.leaderElection;
  const timing = {
    leaseDuration: e.leaseDuration,
    renewDeadline: e.renewDeadline,
    retryPeriod: e.retryPeriod,
  };
  if (e.mode === 'postgres') return new PostgresLeader(config.dbPath.trim(), e.identity, timing, logger);
  if (e.mode === 'kubernetes')
    return new KubernetesLeaseLeader({
      kubeconfig: config.kubeconfig,
      namespace: e.namespace,
      name: e.leaseName,
      identity: e.identity,
      timing,
      logger,
    });
  return new SoleLeader(e.identity);
}
