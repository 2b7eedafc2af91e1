import { Inject, Injectable } from '@nestjs/common';
import {
  ACCESS_REVIEWER,
  AccessDeniedError,
  UnauthenticatedError,
  type AccessReviewer,
  type Caller,
  type Scope,
} from './access.js';

/** Everyone, when AUDIT_AUTH=disabled (local development only). */
export const ANONYMOUS: Caller = { username: 'system:anonymous', uid: '', groups: [], extra: {} };

/**
 * The namespaces one caller may read. `learn` asks about the namespaces an answer names (async,
 * RBAC); `canRead` then answers for them synchronously (false for any namespace not learnt).
 */
export interface ReadableNamespaces {
  everything: boolean;
  learn(namespaces: Iterable<string>): Promise<void>;
  canRead(namespace: string): boolean;
}

export const EVERY_NAMESPACE: ReadableNamespaces = {
  everything: true,
  learn: () => Promise.resolve(),
  canRead: () => true,
};

/** Configured mode: `null` reviewer means auth is disabled and every request is let through. */
export const AUTH_MODE = Symbol('AuditAuthMode');
export type AuthMode = { mode: 'kubernetes' } | { mode: 'disabled' };

/** Authenticates bearer tokens and checks scopes, with typed errors the HTTP layer maps to 401/403. */
@Injectable()
export class AuditAuth {
  constructor(
    @Inject(AUTH_MODE) private readonly mode: AuthMode,
    @Inject(ACCESS_REVIEWER) private readonly reviewer: AccessReviewer,
  ) {}

  async authenticate(authorization: string | undefined): Promise<Caller> {
    if (this.mode.mode === 'disabled') return ANONYMOUS;
    const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '');
    if (!match?.[1]) throw new UnauthenticatedError('missing-token');
    const caller = await this.reviewer.authenticate(match[1]);
    if (!caller) throw new UnauthenticatedError('invalid-token');
    return caller;
  }

  /** Passes when the caller may read any one of the scopes (see scopesOf). */
  async requireAny(caller: Caller, scopes: readonly Scope[]): Promise<void> {
    if (this.mode.mode === 'disabled') return;
    for (const scope of scopes) if (await this.reviewer.allowed(caller, scope)) return;
    throw new AccessDeniedError(caller.username, scopes);
  }

  /**
   * What the caller may read, for trimming answers (see trimDecision): everything for a
   * cluster-wide reader (or with auth disabled), else the namespaces RBAC allows, asked per
   * namespace as answers name them and remembered for this one request.
   */
  async readable(caller: Caller): Promise<ReadableNamespaces> {
    if (this.mode.mode === 'disabled' || (await this.reviewer.allowed(caller, null))) return EVERY_NAMESPACE;
    const known = new Map<string, boolean>();
    return {
      everything: false,
      learn: async (namespaces) => {
        for (const ns of namespaces) {
          // '' is cluster-scoped objects: only a cluster-wide reader sees them.
          if (!known.has(ns)) known.set(ns, ns !== '' && (await this.reviewer.allowed(caller, ns)));
        }
      },
      canRead: (ns) => known.get(ns) === true,
    };
  }

  /** Passes when the caller may read every one of the scopes, or the whole cluster. */
  async requireAll(caller: Caller, scopes: readonly Scope[]): Promise<void> {
    if (this.mode.mode === 'disabled') return;
    if (await this.reviewer.allowed(caller, null)) return;
    const denied: Scope[] = [];
    for (const scope of scopes)
      if (scope === null || !(await this.reviewer.allowed(caller, scope))) denied.push(scope);
    if (denied.length > 0) throw new AccessDeniedError(caller.username, denied);
  }
}
