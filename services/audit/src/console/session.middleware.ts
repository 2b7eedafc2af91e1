import { Inject, Injectable, type NestMiddleware } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';
import { CLOCK, type Clock } from '@capstan/platform';
import { CSRF_HEADER, SESSION_COOKIE } from './console.config.js';
import { cookieValue, SessionCodec } from './session-codec.js';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** Whether a browser's Origin (when it sends one) is this server: cross-site writes are refused. */
export function sameOrigin(req: Pick<Request, 'headers'>): boolean {
  const origin = req.headers.origin;
  if (origin === undefined) return true;
  try {
    return new URL(origin).host === req.headers.host;
  } catch {
    return false;
  }
}

/**
 * The console's session, for the audit API: a request without an Authorization header but with
 * a valid session cookie is authenticated with the session's token, so every API route (and the
 * SubjectAccessReview trimming behind it) works for the console exactly as for `curl -H
 * 'Authorization: Bearer ...'`. State-changing requests authenticated by the cookie must carry
 * the session's CSRF token and come from this origin.
 */
@Injectable()
export class SessionMiddleware implements NestMiddleware {
  constructor(
    private readonly codec: SessionCodec,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  use(req: Request, res: Response, next: NextFunction): void {
    if (req.headers.authorization !== undefined) return next();
    const sealed = cookieValue(req.headers.cookie, SESSION_COOKIE);
    const session = sealed ? this.codec.open(sealed, this.clock.now()) : null;
    if (!session) return next();
    if (!SAFE_METHODS.has(req.method)) {
      const csrf = req.headers[CSRF_HEADER];
      if (
        !sameOrigin(req) ||
        !this.codec.checkCsrf(session.sid, typeof csrf === 'string' ? csrf : undefined)
      ) {
        res.status(403).json({ statusCode: 403, message: 'missing or wrong X-CSRF-Token for this session' });
        return;
      }
    }
    req.headers.authorization = `Bearer ${session.token}`;
    next();
  }
}
