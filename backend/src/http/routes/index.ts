/** The scaling routers (targets, recommendations, audit, alert webhook), mounted by createApp under /api. */
import type express from 'express';
import type { ActuationService } from '../../actuate/service';
import type { Actuator } from '../../actuate/types';
import type { Config } from '../../config';
import type { TargetEvaluation } from '../../loop';
import type { Store } from '../../store/store';
import { TokenAuth } from '../auth';
import { auditRouter } from './audit';
import { recommendationsRouter } from './recommendations';
import { targetsRouter } from './targets';
import { webhookRouter } from './webhook';

export function scalingRouters(deps: {
  config: Config;
  store: Store;
  actuator: Actuator;
  service: ActuationService;
  lastEvaluation: (target: string) => TargetEvaluation | undefined;
}): express.Router[] {
  const auth = new TokenAuth(deps.config.tokens, deps.config.anonymousReads);
  return [
    targetsRouter({ ...deps, auth }),
    recommendationsRouter({ store: deps.store, service: deps.service, auth }),
    auditRouter({ store: deps.store, auth }),
    webhookRouter({ service: deps.service, auth }),
  ];
}
