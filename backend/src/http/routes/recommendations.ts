/** GET /api/recommendations(/:id) (a token once tokens are configured) and POST /api/recommendations/:id/apply (operator token). */
import express from 'express';
import { z } from 'zod';
import type { ActuationService } from '../../actuate/service';
import type { ApplyRefusal, RecommendationDetail, RecommendationsAnswer } from '../../contract/api';
import { PrescalerError, quoted } from '../../errors';
import type { Store } from '../../store/store';
import { route } from '../route';
import { issueMessage } from '../validate';
import type { Principal, TokenAuth } from '../auth';
import { renderAudit, renderRecommendation } from './render';

const listQuery = z
  .object({
    target: z.string().min(1).optional(),
    status: z.enum(['pending', 'applied', 'expired', 'superseded', 'failed']).optional(),
    limit: z.coerce.number().int().min(1).max(1000).default(100),
  })
  .strict();

export function recommendationsRouter(deps: {
  store: Store;
  service: ActuationService;
  auth: TokenAuth;
  now?: () => number;
}) {
  const { store, service, auth } = deps;
  const now = deps.now ?? (() => Date.now() / 1000);
  const r = express.Router();

  r.get(
    '/recommendations',
    auth.reads(),
    route(async (req, res) => {
      const q = listQuery.safeParse(req.query);
      if (!q.success)
        throw new PrescalerError(
          'bad_request',
          q.error.issues.map((i) => issueMessage(i, 'query')).join('; ')
        );
      await store.expireDue(now());
      res.json({
        recommendations: (await store.listRecommendations(q.data)).map(renderRecommendation),
      } satisfies RecommendationsAnswer);
    })
  );

  r.get(
    '/recommendations/:id',
    auth.reads(),
    route(async (req, res) => {
      await store.expireDue(now());
      const rec = await store.getRecommendation(String(req.params.id));
      if (!rec) throw new PrescalerError('not_found', `no recommendation ${quoted(String(req.params.id))}`);
      const audit = await store.auditForRecommendation(rec.id);
      res.json({
        ...renderRecommendation(rec),
        audit: audit ? renderAudit(audit) : null,
      } satisfies RecommendationDetail);
    })
  );

  r.post(
    '/recommendations/:id/apply',
    auth.require('operator'),
    route(async (req, res) => {
      // The id is the whole request: a body naming a workload or a count would suggest it is honoured.
      const body = req.body as unknown;
      if (
        body !== undefined &&
        !(typeof body === 'object' && body !== null && Object.keys(body).length === 0)
      ) {
        throw new PrescalerError(
          'bad_request',
          'apply takes no body: the recommendation id alone says what is applied'
        );
      }
      const who = res.locals.principal as Principal;
      const grafanaUser = req.get('x-grafana-user');
      const actor = `token:${who.name}${grafanaUser ? ` (grafana user ${grafanaUser.slice(0, 100)})` : ''}`;
      const result = await service.apply(String(req.params.id), actor);
      if (result.error) {
        res.status(result.error.status).json({
          error: { code: result.error.code, message: result.error.message },
          record: renderAudit(result.record),
        } satisfies ApplyRefusal);
        return;
      }
      res.json(renderAudit(result.record));
    })
  );

  return r;
}
