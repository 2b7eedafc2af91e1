import type { VerifyReport } from './commands/audit.js';
import type { ObjectPath } from './object-ref.js';

export interface HistoryEntry {
  seq: number;
  time: string;
  action: string;
  outcome: string;
  message: string;
  objectAction: string | null;
  revision: string | null;
  sha: string | null;
  repository: string | null;
  commitMessage: string | null;
  author: { name: string; email: string } | null;
  committer: { name: string; email: string } | null;
  actor: { kind: string; name: string; email?: string | null };
}

/** A decision as the audit API lists it (the fields the CLI shows). */
export interface DecisionEntry {
  seq: number;
  time: string;
  action: string;
  outcome: string;
  reason: string;
  message: string;
  actor: { kind: string; name: string; email?: string | null };
  source: { revision: string; sha: string; commitMessage: string } | null;
  decidedBy: { kind: string; namespace: string; name: string };
  targets: { namespace: string; kind: string; name: string; action: string | null }[];
  correlationId: string | null;
  /** The why behind the decision (release charts and values, failures...). */
  evidence?: Record<string, unknown>;
}

export class AuditApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'AuditApiError';
  }
}

/** The audit API over HTTP; the only I/O the CLI's commands do. */
export class AuditClient {
  constructor(
    private readonly baseUrl: string,
    private readonly token?: string,
  ) {}

  async history(object: ObjectPath, limit = 50): Promise<HistoryEntry[]> {
    const path = [object.namespace, object.kind, object.name].map(encodeURIComponent).join('/');
    const body = (await this.get(`/api/v1/objects/${path}/history?limit=${limit}`)) as {
      items: HistoryEntry[];
    };
    return body.items;
  }

  /** One page of the decision log, newest first; `query` holds the API's filters as given. */
  async decisions(
    query: Record<string, string>,
  ): Promise<{ items: DecisionEntry[]; nextCursor: string | null }> {
    const params = new URLSearchParams(query);
    return (await this.get(`/api/v1/decisions?${params.toString()}`)) as {
      items: DecisionEntry[];
      nextCursor: string | null;
    };
  }

  /** Re-walks the hash chain on the server. */
  async verify(): Promise<VerifyReport> {
    return (await this.get('/api/v1/audit/verify')) as VerifyReport;
  }

  private async get(path: string): Promise<unknown> {
    const url = new URL(path, this.baseUrl);
    let res: Response;
    try {
      res = await fetch(url, {
        headers: {
          accept: 'application/json',
          ...(this.token ? { authorization: `Bearer ${this.token}` } : {}),
        },
      });
    } catch (e) {
      throw new AuditApiError(
        0,
        `cannot reach the audit API at ${this.baseUrl}: ${e instanceof Error ? (e.cause instanceof Error ? e.cause.message : e.message) : String(e)}`,
      );
    }
    const text = await res.text();
    if (!res.ok) {
      let message = text;
      try {
        const parsed = JSON.parse(text) as { message?: unknown };
        if (parsed.message !== undefined)
          message = Array.isArray(parsed.message)
            ? parsed.message.join('; ')
            : JSON.stringify(parsed.message).replace(/^"|"$/g, '');
      } catch {
        // not JSON: keep the raw text
      }
      throw new AuditApiError(res.status, `${res.status} from ${url.pathname}: ${message}`);
    }
    return JSON.parse(text) as unknown;
  }
}
