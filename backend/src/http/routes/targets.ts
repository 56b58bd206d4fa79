/** GET /api/targets: the configured scaling targets, their workload as read now, and their latest evaluation. */
import express from 'express';
import type { Actuator } from '../../actuate/types';
import type { Config } from '../../config';
import type { Target, TargetsAnswer } from '../../contract/api';
import { ms } from '../../contract/time';
import type { TargetEvaluation } from '../../loop';
import type { Store } from '../../store/store';
import { route } from '../route';
import type { TokenAuth } from '../auth';
import { renderRecommendation } from './render';

export function targetsRouter(deps: {
  config: Config;
  store: Store;
  actuator: Actuator;
  lastEvaluation: (target: string) => TargetEvaluation | undefined;
  auth: TokenAuth;
}) {
  const { config, store, actuator } = deps;
  const r = express.Router();
  r.get(
    '/targets',
    deps.auth.reads(),
    route(async (_req, res) => {
      await store.expireDue(Date.now() / 1000);
      const targets = await Promise.all(
        config.targets.map(async (t): Promise<Target> => {
          let state: Target['state'] = null;
          let stateError: string | undefined;
          try {
            const s = await actuator.read(t);
            state = {
              replicas: s.replicas,
              setpoint: s.setpoint,
              ...(s.hpa ? { hpa: s.hpa } : {}),
              ...(s.floor ? { floor: { ...s.floor, expiresAt: ms(s.floor.expiresAt) } } : {}),
            };
          } catch (e) {
            stateError = (e as Error).message;
          }
          const ev = deps.lastEvaluation(t.name);
          const pending = await store.listRecommendations({ target: t.name, status: 'pending', limit: 5 });
          return {
            name: t.name,
            namespace: t.namespace,
            workload: t.workload,
            mode: t.workload.kind === 'HorizontalPodAutoscaler' ? 'hpa-floor' : 'scale',
            query: t.query,
            ...(t.unit ? { unit: t.unit } : {}),
            capacityPerReplica: t.capacityPerReplica,
            targetUtilization: t.targetUtilization,
            minReplicas: t.minReplicas,
            maxReplicas: t.maxReplicas,
            autoApplyEmergency: t.autoApplyEmergency ?? { enabled: false },
            actuator: actuator.kind,
            dryRun: actuator.dryRun,
            state,
            ...(stateError ? { stateError } : {}),
            lastEvaluation: ev ? { ...ev, at: ms(ev.at) } : null,
            pending: pending.map(renderRecommendation),
          };
        })
      );
      res.json({ targets } satisfies TargetsAnswer);
    })
  );
  return r;
}
