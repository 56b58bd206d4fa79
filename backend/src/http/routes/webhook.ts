/**
 * POST /api/alerts/webhook: Grafana and Alertmanager notifications (the same envelope: an `alerts`
 * array of {status, labels, annotations, startsAt, fingerprint}). Each firing alert with a `target`
 * label raises an emergency recommendation for that target, once per occurrence of the alert
 * (fingerprint + startsAt: the senders repeat a firing alert every repeat interval with both unchanged);
 * a resolved alert ends its occurrence.
 */
import { createHash } from 'node:crypto';
import express from 'express';
import { z } from 'zod';
import type { ActuationService, EmergencyOutcome } from '../../actuate/service';
import { PrescalerError } from '../../errors';
import { route } from '../route';
import { issueMessage } from '../validate';
import type { TokenAuth } from '../auth';
import { renderAudit } from './render';

const alertSchema = z
  .object({
    status: z.enum(['firing', 'resolved']),
    labels: z.record(z.string()),
    annotations: z.record(z.string()).optional(),
    startsAt: z.string().optional(),
    fingerprint: z.string().optional(),
  })
  .passthrough();

const webhookSchema = z
  .object({
    // Alertmanager sends version "4"; Grafana sends orgId/state/title as well.
    version: z.string().optional(),
    orgId: z.number().optional(),
    status: z.enum(['firing', 'resolved']).optional(),
    alerts: z.array(alertSchema).max(1000),
  })
  .passthrough();

/**
 * The sender's fingerprint, or (Grafana versions that send none) one derived from the label set alone,
 * as Alertmanager's is: the occurrence is told apart by startsAt, not by the fingerprint.
 */
export function fingerprintOf(a: { fingerprint?: string; labels: Record<string, string> }): string {
  if (a.fingerprint) return a.fingerprint;
  const labels = Object.keys(a.labels)
    .sort()
    .map((k) => [k, a.labels[k]]);
  return 'labels:' + createHash('sha256').update(JSON.stringify(labels)).digest('hex').slice(0, 16);
}

/** startsAt as one canonical ISO string, so `…00Z` and `…00.000Z` name the same occurrence; '' if absent. */
export function startsAtOf(a: { startsAt?: string }): string {
  const t = a.startsAt ? Date.parse(a.startsAt) : NaN;
  // Alertmanager's zero time (0001-01-01) or garbage: no usable start.
  return Number.isFinite(t) && t > 0 ? new Date(t).toISOString() : '';
}

export function webhookRouter(deps: { service: ActuationService; auth: TokenAuth }) {
  const r = express.Router();
  r.post(
    '/alerts/webhook',
    deps.auth.require('operator'),
    route(async (req, res) => {
      const parsed = webhookSchema.safeParse(req.body);
      if (!parsed.success) {
        const detail = parsed.error.issues
          .slice(0, 3)
          .map((i) => issueMessage(i))
          .join('; ');
        throw new PrescalerError('bad_request', `not a Grafana or Alertmanager webhook payload: ${detail}`);
      }
      const body = parsed.data;
      const source =
        body.orgId !== undefined || 'title' in body || 'state' in body ? 'grafana' : 'alertmanager';
      const results: Array<
        | (Omit<EmergencyOutcome, 'record'> & { record?: ReturnType<typeof renderAudit> })
        | { alert: string; status: 'skipped'; message: string; target?: string }
      > = [];
      const handled = new Set<string>();
      for (const a of body.alerts) {
        const alert = a.labels.alertname ?? 'unnamed alert';
        const target = a.labels.target;
        if (a.status !== 'firing') {
          const ended =
            target !== undefined &&
            (await deps.service.resolveAlert({
              target,
              fingerprint: fingerprintOf(a),
              startsAt: startsAtOf(a),
            }));
          results.push({
            alert,
            target,
            status: 'skipped',
            message: ended
              ? 'resolved: this occurrence is over; a new firing raises a new emergency'
              : 'resolved',
          });
        } else if (!target) {
          results.push({ alert, status: 'skipped', message: 'no "target" label' });
        } else if (handled.has(target)) {
          results.push({
            alert,
            target,
            status: 'skipped',
            message: 'another alert in this notification already raised an emergency for this target',
          });
        } else {
          const o = await deps.service.raiseEmergency({
            target,
            alertName: alert,
            fingerprint: fingerprintOf(a),
            startsAt: startsAtOf(a),
          });
          // One escalation per target per notification; an alert already answered does not count.
          if (o.status !== 'duplicate' && o.status !== 'no-change') handled.add(target);
          results.push({ ...o, record: o.record && renderAudit(o.record) });
        }
      }
      res.json({ source, results });
    })
  );
  return r;
}
