/**
 * Page cursors are opaque to clients but are only a position in the chain: "items with a seq
 * below this one". New decisions get higher seqs, so later inserts never shift a page.
 */
export class InvalidCursorError extends Error {
  constructor() {
    super('cursor is not one this API returned');
    this.name = 'InvalidCursorError';
  }
}

const PREFIX = 'v1:';

export function encodeCursor(seq: bigint): string {
  return Buffer.from(`${PREFIX}${seq}`, 'utf8').toString('base64url');
}

export function decodeCursor(cursor: string): bigint {
  const text = Buffer.from(cursor, 'base64url').toString('utf8');
  const digits = text.startsWith(PREFIX) ? text.slice(PREFIX.length) : '';
  if (!/^[1-9][0-9]{0,18}$/.test(digits)) throw new InvalidCursorError();
  return BigInt(digits);
}

/** Cuts a page fetched with one extra row; the extra row only tells whether there is a next page. */
export function paginate<T extends { seq: bigint }>(
  rows: T[],
  limit: number,
): { items: T[]; nextCursor: string | null } {
  const items = rows.slice(0, limit);
  const last = items.at(-1);
  return { items, nextCursor: rows.length > limit && last ? encodeCursor(last.seq) : null };
}
