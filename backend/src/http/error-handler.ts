/** The single exit for errors: the form of docs/api.md "Errors", never a stack trace, never a crash. */
import type { ErrorRequestHandler, RequestHandler } from 'express';
import type { Logger } from 'pino';
import type { ApiError } from '../contract/api';
import { echo, MESSAGE_MAX, PrescalerError } from '../errors';
import type { Metrics } from '../metrics';

/** What reaches the end of the routes: not_found. */
export const notFound: RequestHandler = (req, _res, next) =>
  next(new PrescalerError('not_found', `no route for ${echo(req.method, 20)} ${echo(req.path)}`));

export function errorHandler(metrics: Metrics, logger: Logger): ErrorRequestHandler {
  return (err: unknown, req, res, _next) => {
    const e = toPrescalerError(err);
    metrics.errors.inc({ code: e.code });
    if (
      e.status >= 500 &&
      e.code !== 'upstream_error' &&
      e.code !== 'upstream_timeout' &&
      e.code !== 'not_ready'
    ) {
      logger.error({ err, path: req.originalUrl }, 'request failed');
    }
    if (res.headersSent) {
      res.end();
      return;
    }
    // Messages quote input cut short where they quote it; this bounds whatever quotes it still.
    const body: ApiError = { error: { code: e.code, message: echo(e.message, MESSAGE_MAX) } };
    res.status(e.status).json(body);
  };
}

/** Maps anything thrown (body-parser errors included) to a PrescalerError. */
export function toPrescalerError(err: unknown): PrescalerError {
  if (err instanceof PrescalerError) return err;
  const e = err as { type?: string; status?: number; message?: string };
  if (e?.type === 'entity.parse.failed')
    return new PrescalerError('bad_request', `body is not valid JSON: ${echo(String(e.message))}`);
  if (e?.type === 'entity.too.large') return new PrescalerError('too_large', 'request body too large');
  if (e?.type === 'encoding.unsupported' || e?.type === 'charset.unsupported') {
    return new PrescalerError('bad_request', echo(e.message ?? 'unsupported body encoding'));
  }
  if (typeof e?.status === 'number' && e.status >= 400 && e.status < 500) {
    return new PrescalerError('bad_request', echo(e.message ?? 'bad request'));
  }
  return new PrescalerError('internal', 'internal error');
}
