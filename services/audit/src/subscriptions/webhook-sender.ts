import { SIGNATURE_HEADER, signBody } from './signature.js';
import type { WebhookMessage } from './payload.js';

export type SendResult = { ok: true; status: number } | { ok: false; error: string };

/** The HTTP port of the workers; tests and the benchmark use the real one against local servers. */
export interface WebhookSender {
  send(url: string, message: WebhookMessage, secret: string | null): Promise<SendResult>;
}
export const WEBHOOK_SENDER = Symbol('WebhookSender');

/** The headers of one message: CloudEvents names, the HMAC signature, or an API token. */
export function messageHeaders(message: WebhookMessage, secret: string | null): Record<string, string> {
  const headers: Record<string, string> = {
    'content-type': 'application/json; charset=utf-8',
    'user-agent': 'capstan-audit-webhooks',
  };
  switch (message.delivery) {
    case 'cloudevent':
      Object.assign(headers, {
        'ce-specversion': '1.0',
        'ce-id': message.id,
        'ce-type': message.type,
        'ce-source': message.source,
      });
      if (secret !== null) headers[SIGNATURE_HEADER.toLowerCase()] = signBody(secret, message.body);
      break;
    case 'chat':
      if (secret !== null) headers[SIGNATURE_HEADER.toLowerCase()] = signBody(secret, message.body);
      break;
    case 'github':
      headers['accept'] = 'application/vnd.github+json';
      headers['x-github-api-version'] = '2022-11-28';
      if (secret !== null) headers['authorization'] = `Bearer ${secret}`;
      break;
    case 'gitlab':
      if (secret !== null) headers['private-token'] = secret;
      break;
  }
  return headers;
}

/**
 * POSTs the message to the subscription's URL (plus the message's path): CloudEvents in
 * structured-content JSON with the binary-mode `ce-*` headers that name it, chat messages as
 * their service expects them, commit statuses with the API token. Any 2xx is success; anything
 * else, a timeout or a connection error is a failed attempt.
 */
export function httpWebhookSender(timeoutMs: number): WebhookSender {
  return {
    async send(url, message, secret) {
      const headers = messageHeaders(message, secret);
      const target = message.path ? `${url.replace(/\/+$/, '')}${message.path}` : url;
      try {
        const res = await fetch(target, {
          method: 'POST',
          headers,
          body: message.body,
          signal: AbortSignal.timeout(timeoutMs),
          redirect: 'manual',
        });
        // Drain the body so the connection goes back to the pool.
        await res.arrayBuffer().catch(() => undefined);
        return res.ok ? { ok: true, status: res.status } : { ok: false, error: `HTTP ${res.status}` };
      } catch (e) {
        const cause = (e as { cause?: { code?: string; message?: string } }).cause;
        return {
          ok: false,
          error: cause?.code ?? cause?.message ?? (e instanceof Error ? e.message : String(e)),
        };
      }
    },
  };
}
