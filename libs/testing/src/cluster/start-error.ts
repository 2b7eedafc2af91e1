import { tailLog, type ProcessRecord } from './processes.js';

/** A failed start, carrying the end of the log of the process that is to blame. */
export class ClusterStartError extends Error {
  /** Another process grabbed one of our ports between picking and binding: worth a retry. */
  readonly portClash: boolean;

  constructor(reason: string, culprit: ProcessRecord) {
    const tail = tailLog(culprit.logFile);
    super(`local cluster failed to start: ${reason}\n--- last lines of ${culprit.logFile} ---\n${tail}`);
    this.name = 'ClusterStartError';
    this.portClash = /address already in use/i.test(tail);
  }
}
