/** One log line and one metric sample per request, labelled by the route pattern that matched. */
import type { Request, RequestHandler, Response } from 'express';
import type { Logger } from 'pino';
import type { Metrics } from '../metrics';

export function requestLog(metrics: Metrics, logger: Logger): RequestHandler {
  return (req, res, next) => {
    const t0 = process.hrtime.bigint();
    res.on('finish', () => {
      const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
      // Only matched route patterns become label values: raw paths would let any client grow the metrics.
      const r = routeLabel(req, res) ?? 'unmatched';
      metrics.httpRequests.inc({ method: req.method, route: r, status: String(res.statusCode) });
      metrics.httpDuration.observe({ method: req.method, route: r }, seconds);
      logger.info(
        {
          method: req.method,
          path: req.originalUrl,
          status: res.statusCode,
          ms: Math.round(seconds * 1e4) / 10,
        },
        'request'
      );
    });
    next();
  };
}

/** The matched route's full pattern (`/api/recommendations/:id/apply`), once a route matched. */
export function routeLabel(req: Request, res: Response): string | undefined {
  if (typeof res.locals.route === 'string') return res.locals.route;
  return req.route ? req.baseUrl + (req.route.path as string) : undefined;
}
