import {
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  Inject,
  Post,
  Req,
  Res,
  UnauthorizedException,
} from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { z } from 'zod';
import { CLOCK, type Clock } from '@capstan/platform';
import { AuditAuth } from '../auth/audit-auth.service.js';
import { CONSOLE_OPTIONS, CSRF_HEADER, SESSION_COOKIE, type ConsoleOptions } from './console.config.js';
import { cookieValue, newSessionId, SessionCodec, sessionCookie } from './session-codec.js';
import { sameOrigin } from './session.middleware.js';

const Login = z.strictObject({ token: z.string().trim().min(1, 'is required').max(16_384) });

export interface SessionView {
  username: string;
  groups: string[];
  csrfToken: string;
  expiresAt: string;
}

const isTls = (req: Request): boolean => req.secure || req.headers['x-forwarded-proto'] === 'https';

/**
 * Login, who am I, logout. The token is checked with TokenReview (as every API call is), then
 * kept only inside the sealed, HttpOnly cookie; the page gets the username and a CSRF token.
 */
@ApiExcludeController()
@Controller('console/api/session')
export class SessionController {
  constructor(
    private readonly codec: SessionCodec,
    private readonly auth: AuditAuth,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(CONSOLE_OPTIONS) private readonly options: ConsoleOptions,
  ) {}

  @Post()
  @HttpCode(200)
  async login(
    @Req() req: Request,
    @Body() body: unknown,
    @Res({ passthrough: true }) res: Response,
  ): Promise<SessionView> {
    // JSON only (a cross-site form cannot send it without a CORS preflight) and same origin.
    if (!req.is('application/json') || !sameOrigin(req))
      throw new UnauthorizedException('log in from the console with a JSON body');
    const parsed = Login.safeParse(body);
    if (!parsed.success)
      throw new UnauthorizedException(`token ${parsed.error.issues[0]?.message ?? 'is invalid'}`);
    const caller = await this.auth.authenticate(`Bearer ${parsed.data.token}`);
    const sid = newSessionId();
    const expiresAt = this.clock.now().getTime() + this.options.sessionTtlMs;
    res.setHeader(
      'Set-Cookie',
      sessionCookie(SESSION_COOKIE, this.codec.seal({ sid, token: parsed.data.token, expiresAt }), {
        secure: isTls(req),
        maxAgeSeconds: Math.floor(this.options.sessionTtlMs / 1000),
      }),
    );
    res.setHeader('Cache-Control', 'no-store');
    return {
      username: caller.username,
      groups: caller.groups,
      csrfToken: this.codec.csrfToken(sid),
      expiresAt: new Date(expiresAt).toISOString(),
    };
  }

  @Get()
  async whoami(@Req() req: Request, @Res({ passthrough: true }) res: Response): Promise<SessionView> {
    res.setHeader('Cache-Control', 'no-store');
    const sealed = cookieValue(req.headers.cookie, SESSION_COOKIE);
    const session = sealed ? this.codec.open(sealed, this.clock.now()) : null;
    if (!session) throw new UnauthorizedException('not logged in');
    const caller = await this.auth.authenticate(`Bearer ${session.token}`);
    return {
      username: caller.username,
      groups: caller.groups,
      csrfToken: this.codec.csrfToken(session.sid),
      expiresAt: new Date(session.expiresAt).toISOString(),
    };
  }

  @Delete()
  @HttpCode(204)
  logout(@Req() req: Request, @Res({ passthrough: true }) res: Response): void {
    const sealed = cookieValue(req.headers.cookie, SESSION_COOKIE);
    const session = sealed ? this.codec.open(sealed, this.clock.now()) : null;
    const csrf = req.headers[CSRF_HEADER];
    if (session && !this.codec.checkCsrf(session.sid, typeof csrf === 'string' ? csrf : undefined))
      throw new UnauthorizedException('missing or wrong X-CSRF-Token for this session');
    res.setHeader('Set-Cookie', sessionCookie(SESSION_COOKIE, '', { secure: isTls(req), maxAgeSeconds: 0 }));
  }
}
