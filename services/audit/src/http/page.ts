import { decodeCursor, InvalidCursorError } from '../domain/cursor.js';
import type { Page } from '../domain/decision-query.js';
import { badParameter } from './query-validation.js';

/** Fetches one row more than asked, to know whether a next page exists. */
export function pageOf(query: { limit: number; cursor?: string | undefined }): Page {
  try {
    return {
      limit: query.limit + 1,
      ...(query.cursor === undefined ? {} : { beforeSeq: decodeCursor(query.cursor) }),
    };
  } catch (e) {
    if (e instanceof InvalidCursorError) throw badParameter('cursor', e.message);
    throw e;
  }
}
