import { z } from 'zod';
import {
  cursorParam,
  deciderParam,
  imageParam,
  limitParam,
  namespaceParam,
  nonEmpty,
  single,
  timestampParam,
} from './query-validation.js';

/** Filters shared by the page and export forms of the decision list. */
const filters = {
  namespace: namespaceParam.optional(),
  kind: nonEmpty.optional(),
  name: nonEmpty.optional(),
  revision: nonEmpty.optional(),
  actor: nonEmpty.optional(),
  action: nonEmpty.optional(),
  since: timestampParam.optional(),
  until: timestampParam.optional(),
  sync: deciderParam.optional(),
  canary: deciderParam.optional(),
  correlationId: nonEmpty.optional(),
  image: imageParam.optional(),
};

export const EXPORT_FORMATS = ['json', 'ndjson', 'csv'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

export const DecisionsQuery = z
  .strictObject({
    ...filters,
    limit: limitParam,
    cursor: cursorParam.optional(),
    format: single.pipe(z.enum(EXPORT_FORMATS, { error: 'must be json, ndjson or csv' })).optional(),
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

/** Ceiling on rows of the unpaged answers (running objects, one deploy's timeline). */
export const MAX_UNPAGED = 5000;

export const RunningQuery = z
  .strictObject({ namespace: namespaceParam.optional(), sync: deciderParam.optional() })
  .refine((q) => q.namespace !== undefined || q.sync !== undefined, {
    path: ['namespace'],
    message: 'name a namespace (?namespace=<ns>) or a Sync (?sync=<ns>/<name>)',
  });
export type RunningQuery = z.infer<typeof RunningQuery>;

export const TimelineParams = z.object({
  correlationId: nonEmpty.max(256, 'must be at most 256 characters'),
});
export type TimelineParams = z.infer<typeof TimelineParams>;
