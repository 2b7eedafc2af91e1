import { z } from 'zod';
import type { NatsConnection, Subscription } from '@nats-io/nats-core';
import { CanaryCommandRequest, canaryCommandSubject, type CanaryCommandReply } from '@capstan/events';
import { RolloutCommandRejected } from '@capstan/canary-core';
import type { CanaryDriver } from '../rollout/canary-driver.js';
import type { CanaryScheduler } from '../rollout/canary-scheduler.js';

/**
 * Commands from people (promote, abort, retry, pause, resume) arrive as NATS requests from the
 * audit API, which authenticated the person and checked RBAC. Every replica listens in one
 * queue group; whichever gets it decides against the rollout stream (the append is optimistic,
 * so it does not matter which replica that is) and answers with the outcome.
 */
const VERBS = {
  promote: 'Promote',
  abort: 'Abort',
  retry: 'Retry',
  pause: 'Pause',
  resume: 'Resume',
} as const;

export function serveCanaryCommands(
  nc: NatsConnection,
  prefix: string,
  scheduler: CanaryScheduler,
  driver: CanaryDriver,
): Subscription {
  return nc.subscribe(canaryCommandSubject(prefix), {
    queue: 'canary-analyzer',
    callback: (err, msg) => {
      if (err) return;
      void (async () => {
        let reply: CanaryCommandReply;
        try {
          const req = CanaryCommandRequest.parse(msg.json());
          const res = scheduler.find(req.namespace, req.name);
          if (!res)
            reply = { ok: false, code: 'NotFound', message: `Canary ${req.namespace}/${req.name} not found` };
          else {
            const state = await driver.command(res, VERBS[req.verb], req.actor);
            scheduler.poke(res.metadata.uid);
            reply = { ok: true, phase: state.phase, message: state.message };
          }
        } catch (e) {
          reply =
            e instanceof RolloutCommandRejected
              ? { ok: false, code: 'Rejected', message: e.message }
              : e instanceof z.ZodError
                ? { ok: false, code: 'Invalid', message: z.prettifyError(e) }
                : { ok: false, code: 'Failed', message: (e as Error).message };
        }
        msg.respond(JSON.stringify(reply));
      })();
    },
  });
}
