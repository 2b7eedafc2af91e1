import { z } from 'zod';
import { cursorParam, limitParam, namespaceParam, nonEmpty, timestampParam } from './query-validation.js';

export const DecisionsQuery = z
  .strictObject({
    namespace: namespaceParam.optional(),
    kind: nonEmpty.optional(),
    name: nonEmpty.optional(),
    revision: nonEmpty.optional(),
    actor: nonEmpty.optional(),
    action: nonEmpty.optional(),
    since: timestampParam.optional(),
    until: timestampParam.optional(),
    limit: limitParam,
    cursor: cursorParam.optional(),
  })
  .refine((q) => !q.since || !q.until || q.since < q.until, {
    path: ['until'],
    message: 'must be later than since',
  });
export type DecisionsQuery = z.infer<typeof DecisionsQuery>;

export const ObjectHistoryParams = z.object({
  namespace: namespaceParam,
  kind: nonEmpty,
  name: nonEmpty,
});
export type ObjectHistoryParams = z.infer<typeof ObjectHistoryParams>;

export const PageQuery = z.strictObject({ limit: limitParam, cursor: cursorParam.optional() });
export type PageQuery = z.infer<typeof PageQuery>;
