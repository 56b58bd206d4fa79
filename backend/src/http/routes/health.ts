/**
 * GET /api/health (always 200: what is loaded and whether the upstream answers), and Kubernetes' probes
 * /livez and /readyz (deploy/base/deployment.yaml), named as the API server names its own. The probes are
 * outside /api and without a token, like /metrics: a kubelet sends none. Liveness asks nothing of the
 * models or the upstream, so an outage of Prometheus never restarts the backend; readiness takes the pod
 * out of its Service while it could not answer a forecast.
 */
import type express from 'express';
import type { HealthAnswer, UpstreamHealth } from '../../contract/api';
import { PrescalerError } from '../../errors';
import type { Models } from '../../models';
import type { SeriesSource } from '../../sources/types';
import { route } from '../route';

export type { UpstreamHealth };

/** How long a health answer about the upstream is reused: probes and dashboards may ask every second. */
export const UPSTREAM_HEALTH_TTL_SECONDS = 5;
/** A health check waits this long for the upstream, so the probe asking gets an answer in time. */
export const UPSTREAM_HEALTH_TIMEOUT_MS = 2000;

export function healthRoutes(
  app: express.Express,
  deps: {
    source: SeriesSource;
    models: Models;
    /** This replica's role and the leader's identity (leader.ts). */
    leadership?: () => Promise<{ role: 'leader' | 'follower'; leader: string | null; identity: string }>;
  }
): void {
  const { source, models } = deps;
  const upstreamHealth = cachedUpstreamHealth(source);
  app.get(
    '/api/health',
    route(async (_req, res) => {
      const upstream = await upstreamHealth();
      const errors = [
        models.forecasterError,
        models.anomalyError,
        upstream.ok ? undefined : upstream.error,
      ].filter(Boolean) as string[];
      // Always 200: a probe must not restart the backend because Prometheus or a model is down.
      res.json({
        status: errors.length ? 'degraded' : 'ok',
        source: source.kind,
        upstream,
        models: {
          forecaster: models.forecaster
            ? { id: models.forecaster.metadata.id, version: models.forecaster.metadata.version }
            : null,
          anomaly: models.anomaly ? { id: models.anomaly.id, version: models.anomaly.version } : null,
        },
        ...(deps.leadership ? await deps.leadership() : {}),
        ...(errors.length ? { errors } : {}),
      } satisfies HealthAnswer);
    })
  );

  app.get('/livez', (_req, res) => {
    res.json({ status: 'live' });
  });
  app.get(
    '/readyz',
    route(async (_req, res) => {
      const upstream = await upstreamHealth();
      const failing = [
        models.forecaster
          ? undefined
          : `forecaster not loaded: ${models.forecasterError ?? 'unknown reason'}`,
        models.anomaly
          ? undefined
          : `anomaly detector not loaded: ${models.anomalyError ?? 'unknown reason'}`,
        upstream.ok ? undefined : `${source.kind} source not answering: ${upstream.error}`,
      ].filter((x): x is string => x !== undefined);
      if (failing.length) throw new PrescalerError('not_ready', `not ready: ${failing.join('; ')}`);
      res.json({ status: 'ready' });
    })
  );
}

/** The source's ping, shared by concurrent health requests and reused for a few seconds. */
function cachedUpstreamHealth(source: SeriesSource): () => Promise<UpstreamHealth> {
  let last: { at: number; value: Promise<UpstreamHealth> } | undefined;
  const check = async (): Promise<UpstreamHealth> => {
    if (!source.ping) return { ok: true, version: null };
    const signal = AbortSignal.timeout(UPSTREAM_HEALTH_TIMEOUT_MS);
    // Raced against the timeout too, so a ping that ignores its signal cannot hold the answer.
    const timedOut = new Promise<never>((_, reject) =>
      signal.addEventListener('abort', () => reject(signal.reason), { once: true })
    );
    timedOut.catch(() => undefined);
    try {
      return { ok: true, ...(await Promise.race([source.ping(signal), timedOut])) };
    } catch (e) {
      const timedOut = e instanceof DOMException && e.name === 'TimeoutError';
      // Never empty: an empty error would drop out of `errors` and leave the status 'ok'.
      const said =
        (e instanceof Error ? e.message : String(e)) || `the ${source.kind} source failed its health check`;
      return {
        ok: false,
        error: timedOut
          ? `the ${source.kind} source did not answer its health check within ${UPSTREAM_HEALTH_TIMEOUT_MS} ms`
          : said,
      };
    }
  };
  return () => {
    const t = performance.now() / 1000; // the real clock, whatever clock the routes are given
    if (!last || t - last.at >= UPSTREAM_HEALTH_TTL_SECONDS) last = { at: t, value: check() };
    return last.value;
  };
}
