import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { gateOf, isWebhookSuccess, webhookPayload, type HookResult } from './webhook-rules.js';
import type { WebhookModel } from '../spec.js';

const result = (ok: boolean): HookResult => ({
  name: 'h',
  type: 'rollout',
  url: 'http://x/',
  ok,
  message: '',
  attempts: 1,
  status: ok ? 200 : 500,
});

describe('webhook rules', () => {
  it('success is a status <= 202', () => {
    assert.equal(isWebhookSuccess(200), true);
    assert.equal(isWebhookSuccess(202), true);
    assert.equal(isWebhookSuccess(203), false);
    assert.equal(isWebhookSuccess(403), false);
  });
  it('confirm-* gates hold without counting; checks count; rollback is inverted; post-rollout and event only inform', () => {
    for (const t of ['confirm-rollout', 'confirm-traffic-increase', 'confirm-promotion'] as const) {
      assert.equal(gateOf(t, [result(false)]), 'hold');
      assert.equal(gateOf(t, [result(true)]), 'proceed');
    }
    assert.equal(gateOf('pre-rollout', [result(true), result(false)]), 'failed-check');
    assert.equal(gateOf('rollout', []), 'proceed');
    assert.equal(gateOf('rollback', [result(true)]), 'rollback');
    assert.equal(gateOf('rollback', [result(false)]), 'proceed');
    assert.equal(gateOf('post-rollout', [result(false)]), 'proceed');
    assert.equal(gateOf('event', [result(false)]), 'proceed');
  });
  it("builds Flagger's payload; event hooks get the event's message, type and time", () => {
    const hook: WebhookModel = {
      name: 'e',
      type: 'event',
      url: 'http://x/',
      timeoutMs: 1000,
      metadata: { team: 'a' },
      muteAlert: false,
      retries: 0,
    };
    assert.deepEqual(
      webhookPayload({ name: 'podinfo', namespace: 'prod' }, 'Progressing', 'abc', hook, {
        message: 'm',
        type: 'Normal',
        atMs: 5,
      }),
      {
        name: 'podinfo',
        namespace: 'prod',
        phase: 'Progressing',
        checksum: 'abc',
        metadata: { team: 'a', eventMessage: 'm', eventType: 'Normal', timestamp: '5' },
      },
    );
  });
});
