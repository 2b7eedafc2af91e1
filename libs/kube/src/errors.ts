import { ApiException } from '@kubernetes/client-node';
import { describeObject, type ObjectOrigin, type KubeObject } from '@capstan/gitops-core';

export interface ObjectFailure {
  object: string;
  origin?: ObjectOrigin;
  /** The API server's own message, verbatim. */
  message: string;
  code?: number;
}

/**
 * The API server refused one or more objects. `validation`: refused before anything was written
 * (a kind it does not serve); otherwise by the dry-run or the write itself.
 */
export class ApplyRejectedError extends Error {
  readonly validation: boolean;
  constructor(
    readonly failures: ObjectFailure[],
    { validation = false }: { validation?: boolean } = {},
  ) {
    super(failures.map(formatFailure).join('; '));
    this.name = 'ApplyRejectedError';
    this.validation = validation;
  }
}

export function formatFailure(f: ObjectFailure): string {
  const where = f.origin ? ` (${f.origin.file}, document ${f.origin.document + 1})` : '';
  return `${f.object}${where}: ${f.message}`;
}

export function failureOf(
  object: KubeObject,
  origin: ObjectOrigin | undefined,
  error: unknown,
): ObjectFailure {
  const base = { object: describeObject(object), ...(origin ? { origin } : {}) };
  if (error instanceof ApiException) {
    return { ...base, message: apiMessage(error), code: error.code };
  }
  return { ...base, message: error instanceof Error ? error.message : String(error) };
}

/** The `message` of a metav1.Status body, which is what kubectl prints. */
export function apiMessage(error: ApiException<unknown>): string {
  const body: unknown = error.body;
  const parsed: unknown = typeof body === 'string' ? safeJson(body) : body;
  if (
    typeof parsed === 'object' &&
    parsed !== null &&
    typeof (parsed as { message?: unknown }).message === 'string'
  ) {
    return (parsed as { message: string }).message;
  }
  return typeof body === 'string' && body !== '' ? body : error.message;
}

export function isNotFound(error: unknown): boolean {
  return error instanceof ApiException && error.code === 404;
}

function safeJson(s: string): unknown {
  try {
    return JSON.parse(s);
  } catch {
    return undefined;
  }
}
