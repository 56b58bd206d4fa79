/**
 * Bearer-token authentication: tokens come from config with a role. Acting needs an operator token;
 * reading needs any token once tokens are configured, unless `auth.anonymousReads` opens reads again (with
 * no tokens configured reads are open and acting is refused: the bare demo). The presented token is hashed and compared with every configured digest in constant time, so neither
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

  /** `anonymousReads`: `reads()` lets requests without a token through (config.anonymousReads). */
  constructor(
    tokens: readonly ApiToken[],
    private readonly anonymousReads = tokens.length === 0
  ) {
    this.entries = tokens.map((t) => ({ name: t.name, role: t.role, digest: digest(t.token) }));
  }

  /**
   * Express middleware for the routes that read: open with anonymous reads (a token, when one is
   * presented anyway, is not checked), else a viewer or operator token (401 without).
   */
  reads() {
    const viewer = this.require('viewer');
    return (req: Request, res: Response, next: NextFunction): void => {
      if (this.anonymousReads) next();
      else viewer(req, res, next);
    };
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
      if (!this.entries.length) {
        next(
          new PrescalerError('unauthorized', 'no API tokens are configured (auth.tokens in PRESCALER_CONFIG)')
        );
        return;
      }
      if (!m) {
        next(new PrescalerError('unauthorized', 'missing bearer token'));
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
