import { BadRequestException, type PipeTransform } from '@nestjs/common';
import { z } from 'zod';

/** 400 body: which parameter is wrong and why, so a client (or a person) can fix the request. */
export interface BadParameterBody {
  statusCode: 400;
  error: 'Bad Request';
  parameter: string;
  message: string;
}

export function badParameter(parameter: string, message: string): BadRequestException {
  const body: BadParameterBody = {
    statusCode: 400,
    error: 'Bad Request',
    parameter,
    message: `${parameter}: ${message}`,
  };
  return new BadRequestException(body);
}

/** Validates @Query()/@Param() with a zod schema; the first issue becomes a 400 naming its parameter. */
export class ZodParamsPipe<S extends z.ZodType> implements PipeTransform<unknown, z.infer<S>> {
  constructor(private readonly schema: S) {}

  transform(value: unknown): z.infer<S> {
    const result = this.schema.safeParse(value ?? {});
    if (result.success) return result.data;
    const issue = result.error.issues[0];
    if (!issue) throw badParameter('?', 'invalid');
    if (issue.code === 'unrecognized_keys') throw badParameter(issue.keys[0] ?? '?', 'unknown parameter');
    throw badParameter(String(issue.path[0] ?? '?'), issue.message);
  }
}

/**
 * Query strings can repeat a key; these endpoints take each parameter once. Postgres text cannot
 * hold a NUL byte, so one in any parameter would fail in the database as a 500: refused here.
 */
export const single = z
  .string({
    error: (i) => (Array.isArray(i.input) ? 'given more than once' : 'must be a string'),
  })
  .regex(/^[^\0]*$/, 'must not contain a NUL byte');

export const nonEmpty = single.min(1, 'must not be empty');

/** `_` stands for "no namespace" (cluster-scoped objects), since an empty path segment cannot. */
export const namespaceParam = single.transform((ns) => (ns === '_' ? '' : ns));

export const timestampParam = single
  .pipe(z.iso.datetime({ offset: true, error: 'must be an RFC 3339 timestamp, e.g. 2026-11-22T10:00:00Z' }))
  .transform((s) => new Date(s));

export const MAX_LIMIT = 500;
export const DEFAULT_LIMIT = 50;

export const limitParam = single
  .regex(/^\d+$/, 'must be a whole number')
  .transform(Number)
  .pipe(z.number().min(1, 'must be at least 1').max(MAX_LIMIT, `must be at most ${MAX_LIMIT}`))
  .default(DEFAULT_LIMIT);

export const cursorParam = nonEmpty.max(200, 'is not one this API returned');

/** `<namespace>/<name>` of a Sync or Canary. */
export const deciderParam = single
  .regex(/^[^/\s]+\/[^/\s]+$/, 'must be <namespace>/<name>')
  .transform((s) => {
    const [namespace = '', name = ''] = s.split('/');
    return { namespace, name };
  });

/**
 * `<repository>` or `<repository>:<tag>` as a person writes an image (`ghcr.io/org/app:1.2.3`);
 * a colon before the last `/` is a registry's port, not a tag. A digest is not searched by.
 */
export const imageParam = nonEmpty
  .max(512, 'must be at most 512 characters')
  .regex(/^[^@\s]+$/, 'must be <repository> or <repository>:<tag>, without a digest')
  .transform((s) => {
    const slash = s.lastIndexOf('/');
    const colon = s.lastIndexOf(':');
    return colon > slash ? { repository: s.slice(0, colon), tag: s.slice(colon + 1) } : { repository: s };
  })
  .refine((i) => i.repository !== '' && i.tag !== '', 'must be <repository> or <repository>:<tag>');
