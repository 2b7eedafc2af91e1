import { createParamDecorator, Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import type { Request } from 'express';
import type { Caller } from './access.js';
import { AuditAuth } from './audit-auth.service.js';

type AuthenticatedRequest = Request & { caller?: Caller };

/** Every audit API route needs a caller; who may see what is decided in the handler, per scope. */
@Injectable()
export class BearerAuthGuard implements CanActivate {
  constructor(private readonly auth: AuditAuth) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const req = context.switchToHttp().getRequest<AuthenticatedRequest>();
    req.caller = await this.auth.authenticate(req.headers.authorization);
    return true;
  }
}

/** The caller BearerAuthGuard authenticated. */
export const CurrentCaller = createParamDecorator((_data: unknown, context: ExecutionContext): Caller => {
  const caller = context.switchToHttp().getRequest<AuthenticatedRequest>().caller;
  if (!caller) throw new Error('CurrentCaller used on a route without BearerAuthGuard');
  return caller;
});
