/** What every route handler is wrapped in (`route`), and the signal that stops a request's upstream work. */
import type { NextFunction, Request, Response } from 'express';
import { PrescalerError } from '../errors';

/** An async route whose rejections reach the error handler. Express 5 does this itself; kept explicit. */
export type Handler = (req: Request, res: Response) => Promise<void> | void;
export const route =
  (h: Handler) =>
  (req: Request, res: Response, next: NextFunction): void => {
    Promise.resolve(h(req, res)).catch(next);
  };

/** Aborts upstream work when the client goes away, so a cancelled dashboard doesn't keep Prometheus busy. */
export function requestSignal(req: Request, res: Response): AbortSignal {
  const ctrl = new AbortController();
  res.on('close', () => {
    if (!res.writableFinished) ctrl.abort(new PrescalerError('bad_request', 'client closed the request'));
  });
  return ctrl.signal;
}
