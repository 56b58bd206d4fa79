/**
 * Bearer-token authentication for the routes that act: tokens come from config with a role; the
 * presented token is hashed and compared with every configured digest in constant time, so neither
 * the comparison nor which token matched leaks through timing.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';
import type { ApiToken, Role } from '../config';
import { PrescalerError } from '../errors';

export interface Principal {
  name: string;
  role: Role;
}

const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest();

export class TokenAuth {
  private readonly entries: Array<{ name: string; role: Role; digest: Buffer }>;

  constructor(tokens: readonly ApiToken[]) {
    this.entries = tokens.map((t) => ({ name: t.name, role: t.role, digest: digest(t.token) }));
  }

  /** The principal a bearer token belongs to; undefined for an unknown token. */
  identify(token: string): Principal | undefined {
    const presented = digest(token);
    let found: Principal | undefined;
    for (const e of this.entries) {
      // No early exit: every configured token is compared every time.
      if (timingSafeEqual(presented, e.digest) && !found) found = { name: e.name, role: e.role };
    }
    return found;
  }

  /** Express middleware: 401 without a valid bearer token, 403 when its role is below `role`. */
  require(role: Role) {
    return (req: Request, res: Response, next: NextFunction): void => {
      const header = req.get('authorization') ?? '';
      const m = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header);
      res.set('WWW-Authenticate', 'Bearer realm="prescaler"');
      if (!m) {
        next(
          new PrescalerError(
            'unauthorized',
            this.entries.length
              ? 'missing bearer token'
              : 'no API tokens are configured (auth.tokens in PRESCALER_CONFIG)'
          )
        );
        return;
      }
      const who = this.identify(m[1]);
      if (!who) {
        next(new PrescalerError('unauthorized', 'invalid bearer token'));
        return;
      }
      res.removeHeader('WWW-Authenticate');
      if (role === 'operator' && who.role !== 'operator') {
        next(
          new PrescalerError(
            'forbidden',
            `token "${who.name}" has role ${who.role}; this needs role operator`
          )
        );
        return;
      }
      res.locals.principal = who;
      next();
    };
  }
}
