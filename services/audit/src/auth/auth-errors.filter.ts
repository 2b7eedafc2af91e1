import { Catch, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import type { Response } from 'express';
import { AccessDeniedError, UnauthenticatedError } from './access.js';

/** The HTTP face of the auth errors: 401 with a challenge, 403 naming the missing permission. */
@Catch(UnauthenticatedError, AccessDeniedError)
export class AuthErrorsFilter implements ExceptionFilter {
  catch(error: UnauthenticatedError | AccessDeniedError, host: ArgumentsHost): void {
    const res = host.switchToHttp().getResponse<Response>();
    if (error instanceof UnauthenticatedError) {
      res
        .status(401)
        .setHeader('WWW-Authenticate', 'Bearer realm="capstan-audit"')
        .json({ statusCode: 401, error: 'Unauthorized', reason: error.reason, message: error.message });
      return;
    }
    res.status(403).json({ statusCode: 403, error: 'Forbidden', message: error.message });
  }
}
