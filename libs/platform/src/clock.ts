/** Time comes in through this port so domain code and tests never read the wall clock themselves. */
export interface Clock {
  now(): Date;
}
export const systemClock: Clock = { now: () => new Date() };
export const CLOCK = Symbol('Clock');
