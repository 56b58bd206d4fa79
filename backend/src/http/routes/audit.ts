/** GET /api/audit: every decision and its outcome, newest first. */
import express from 'express';
import { z } from 'zod';
import type { AuditAnswer } from '../../contract/api';
import { PrescalerError } from '../../errors';
import type { Store } from '../../store/store';
import { route } from '../route';
import { issueMessage } from '../validate';
import type { TokenAuth } from '../auth';
import { renderAudit } from './render';

const auditQuery = z
  .object({
    target: z.string().min(1).optional(),
    limit: z.coerce.number().int().min(1).max(1000).default(100),
    /** Page back: records with an id below this. */
    before: z.coerce.number().int().positive().optional(),
  })
  .strict();

export function auditRouter(deps: { store: Store; auth: TokenAuth }) {
  const r = express.Router();
  r.get(
    '/audit',
    deps.auth.reads(),
    route(async (req, res) => {
      const q = auditQuery.safeParse(req.query);
      if (!q.success)
        throw new PrescalerError(
          'bad_request',
          q.error.issues.map((i) => issueMessage(i, 'query')).join('; ')
        );
      res.json({ records: (await deps.store.listAudit(q.data)).map(renderAudit) } satisfies AuditAnswer);
    })
  );
  return r;
}
