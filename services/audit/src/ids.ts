import { v7 } from 'uuid';

/** Where new record ids come from; a port so tests and domain code never generate their own. */
export interface IdGenerator {
  next(): string;
}
export const ID_GENERATOR = Symbol('IdGenerator');

/** UUIDv7: time-ordered, so ids of consecutive decisions sort together in indexes. */
export const uuidV7Generator: IdGenerator = { next: () => v7() };
