import {
  hooksOfType,
  isWebhookSuccess,
  webhookPayload,
  type CanaryModel,
  type HookResult,
  type WebhookModel,
  type WebhookPayload,
  type WebhookType,
} from '@capstan/canary-core';

/** Calls one webhook like Flagger: POST JSON, `timeout`, `retries` more tries on failure. */
export type HttpFetch = typeof fetch;

export async function callWebhook(
  hook: WebhookModel,
  payload: WebhookPayload,
  http: HttpFetch = fetch,
): Promise<HookResult> {
  let last: HookResult = {
    name: hook.name,
    type: hook.type,
    url: hook.url,
    ok: false,
    message: 'not called',
    attempts: 0,
  };
  for (let attempt = 1; attempt <= hook.retries + 1; attempt++) {
    try {
      const res = await http(hook.url, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify(payload),
        signal: AbortSignal.timeout(hook.timeoutMs),
      });
      const text = (await res.text()).slice(0, 500);
      last = {
        name: hook.name,
        type: hook.type,
        url: hook.url,
        status: res.status,
        ok: isWebhookSuccess(res.status),
        message: text,
        attempts: attempt,
      };
      if (last.ok) return last;
    } catch (e) {
      const err = e as { name?: string; cause?: { code?: string }; message: string };
      const message =
        err.name === 'TimeoutError'
          ? `timed out after ${hook.timeoutMs} ms`
          : (err.cause?.code ?? err.message);
      last = { name: hook.name, type: hook.type, url: hook.url, ok: false, message, attempts: attempt };
    }
  }
  return last;
}

/** Calls a Canary's webhooks of one type in order, each with Flagger's payload for the state. */
export async function callHooksOfType(
  model: CanaryModel,
  state: { phase: string; revision?: string },
  type: WebhookType,
  http: HttpFetch,
): Promise<HookResult[]> {
  const out: HookResult[] = [];
  for (const hook of hooksOfType(model.webhooks, type))
    out.push(await callWebhook(hook, webhookPayload(model, state.phase, state.revision ?? '', hook), http));
  return out;
}
