import { createServer, type IncomingMessage, type Server } from 'node:http';
import { z } from 'zod';

/*
 * Local stand-ins for the services Subscriptions post to: the incoming webhooks of Slack,
 * Microsoft Teams, Discord and Google Chat, and the GitHub and GitLab commit-status APIs. Each
 * checks a request the way the service documents it (shape, field limits, auth header) and
 * answers as the service does: accepted, 400 with the reason, or 401. The schemas are written
 * from the services' documentation, not from Capstan's types, so they catch a renderer that
 * drifts from what the service accepts.
 */

const nonEmpty = z.string().min(1);
const httpUrl = z.url({ protocol: /^https?$/ });

const slackText = (max: number) =>
  z.object({ type: z.enum(['mrkdwn', 'plain_text']), text: nonEmpty.max(max) });
export const SlackWebhookBody = z
  .object({
    text: nonEmpty.max(40_000),
    blocks: z
      .array(
        z.discriminatedUnion('type', [
          z.object({
            type: z.literal('header'),
            text: z.object({ type: z.literal('plain_text'), text: nonEmpty.max(150) }),
          }),
          z
            .object({
              type: z.literal('section'),
              text: slackText(3000).optional(),
              fields: z.array(slackText(2000)).max(10).optional(),
            })
            .refine((s) => s.text !== undefined || s.fields !== undefined, 'a section needs text or fields'),
          z.object({ type: z.literal('context'), elements: z.array(slackText(3000)).min(1).max(10) }),
          z.object({ type: z.literal('divider') }),
        ]),
      )
      .max(50)
      .optional(),
  })
  .strict();

export const TeamsWebhookBody = z.object({
  type: z.literal('message'),
  attachments: z
    .array(
      z.object({
        contentType: z.literal('application/vnd.microsoft.card.adaptive'),
        contentUrl: z.null().optional(),
        content: z.object({
          $schema: z.string().optional(),
          type: z.literal('AdaptiveCard'),
          version: z.string().regex(/^1\.[0-6]$/),
          body: z
            .array(
              z.discriminatedUnion('type', [
                z
                  .object({ type: z.literal('TextBlock'), text: nonEmpty, wrap: z.boolean().optional() })
                  .loose(),
                z.object({
                  type: z.literal('FactSet'),
                  facts: z.array(z.object({ title: nonEmpty, value: nonEmpty })).min(1),
                }),
              ]),
            )
            .min(1),
          actions: z
            .array(z.object({ type: z.literal('Action.OpenUrl'), title: nonEmpty, url: httpUrl }))
            .optional(),
        }),
      }),
    )
    .length(1),
});

export const DiscordWebhookBody = z
  .object({
    username: z.string().max(80).optional(),
    content: z.string().max(2000).optional(),
    embeds: z
      .array(
        z.object({
          title: z.string().max(256).optional(),
          url: httpUrl.optional(),
          description: z.string().max(4096).optional(),
          color: z.number().int().min(0).max(0xffffff).optional(),
          timestamp: z.iso.datetime().optional(),
          fields: z
            .array(
              z.object({
                name: nonEmpty.max(256),
                value: nonEmpty.max(1024),
                inline: z.boolean().optional(),
              }),
            )
            .max(25)
            .optional(),
        }),
      )
      .max(10)
      .optional(),
    allowed_mentions: z.object({ parse: z.array(z.enum(['roles', 'users', 'everyone'])) }).optional(),
  })
  .refine((b) => (b.content ?? '') !== '' || (b.embeds?.length ?? 0) > 0, 'Cannot send an empty message');

const chatWidget = z.union([
  z.object({
    decoratedText: z.object({
      topLabel: z.string().optional(),
      text: nonEmpty,
      wrapText: z.boolean().optional(),
    }),
  }),
  z.object({
    buttonList: z.object({
      buttons: z
        .array(z.object({ text: nonEmpty, onClick: z.object({ openLink: z.object({ url: httpUrl }) }) }))
        .min(1),
    }),
  }),
]);
export const GoogleChatWebhookBody = z.object({
  text: z.string().max(4096).optional(),
  cardsV2: z
    .array(
      z.object({
        cardId: nonEmpty,
        card: z.object({
          header: z.object({ title: nonEmpty, subtitle: z.string().optional() }).optional(),
          sections: z.array(z.object({ widgets: z.array(chatWidget).min(1) })).min(1),
        }),
      }),
    )
    .optional(),
});

export const GitHubStatusRequest = z.strictObject({
  state: z.enum(['error', 'failure', 'pending', 'success']),
  target_url: httpUrl.optional(),
  description: z.string().max(140).optional(),
  context: nonEmpty.optional(),
});

export const GitLabStatusRequest = z.object({
  state: z.enum(['pending', 'running', 'success', 'failed', 'canceled', 'skipped']),
  ref: z.string().optional(),
  name: z.string().max(255).optional(),
  context: z.string().optional(),
  target_url: httpUrl.max(255).optional(),
  description: z.string().max(255).optional(),
  coverage: z.number().optional(),
  pipeline_id: z.number().optional(),
});

export type ReceiverKind = 'slack' | 'msteams' | 'discord' | 'googlechat' | 'github' | 'gitlab';

export interface ReceivedRequest {
  kind: ReceiverKind;
  path: string;
  headers: IncomingMessage['headers'];
  body: unknown;
  status: number;
  /** Why the request was refused, as the service would say it. */
  error?: string;
}

/** A commit status as the APIs keep it: per repository (or project) and commit. */
export interface StoredStatus {
  service: 'github' | 'gitlab';
  repository: string;
  sha: string;
  state: string;
  context: string;
  description: string;
  targetUrl: string | null;
}

const CHAT_SCHEMAS = {
  slack: SlackWebhookBody,
  msteams: TeamsWebhookBody,
  discord: DiscordWebhookBody,
  googlechat: GoogleChatWebhookBody,
} as const;

const firstIssue = (e: z.ZodError): string => {
  const issue = e.issues[0];
  return `${issue?.path.join('.') || '(body)'}: ${issue?.message ?? 'invalid'}`;
};

/**
 * One loopback server answering every service on its own path:
 * - POST /slack/<any>, /msteams/<any>, /discord/<any>, /googlechat/<any>: incoming webhooks;
 * - POST /github/repos/<owner>/<repo>/statuses/<sha>: GitHub (Authorization: Bearer <token>);
 * - POST /gitlab/api/v4/projects/<id>/statuses/<sha>: GitLab (PRIVATE-TOKEN: <token>).
 */
export class NotificationReceiver {
  readonly requests: ReceivedRequest[] = [];
  readonly statuses: StoredStatus[] = [];

  private readonly server: Server;
  private boundPort = 0;

  private constructor(private readonly token: string) {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const { status, body } = this.handle(req, Buffer.concat(chunks).toString('utf8'));
        res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
      });
    });
  }

  static async start(token: string): Promise<NotificationReceiver> {
    const receiver = new NotificationReceiver(token);
    await new Promise<void>((r) => receiver.server.listen(0, '127.0.0.1', r));
    receiver.boundPort = (receiver.server.address() as { port: number }).port;
    return receiver;
  }

  get port(): number {
    return this.boundPort;
  }

  url(path: string): string {
    return `http://127.0.0.1:${this.port}${path}`;
  }

  accepted(kind: ReceiverKind): ReceivedRequest[] {
    return this.requests.filter((r) => r.kind === kind && r.status < 300);
  }

  refused(): ReceivedRequest[] {
    return this.requests.filter((r) => r.status >= 300);
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((r) => this.server.close(() => r()));
  }

  private handle(req: IncomingMessage, raw: string): { status: number; body: unknown } {
    const path = req.url ?? '/';
    const kind = path.split('/')[1] as ReceiverKind;
    const record = (status: number, error?: string) => {
      this.requests.push({
        kind,
        path,
        headers: req.headers,
        body: parsed,
        status,
        ...(error ? { error } : {}),
      });
      return { status, body: error ? { message: error } : { ok: true } };
    };
    let parsed: unknown;
    try {
      parsed = JSON.parse(raw);
    } catch {
      return record(400, 'invalid_json');
    }
    if (req.method !== 'POST') return record(405, 'method not allowed');
    if (!String(req.headers['content-type']).startsWith('application/json'))
      return record(415, 'content-type must be application/json');
    switch (kind) {
      case 'slack':
      case 'msteams':
      case 'discord':
      case 'googlechat': {
        const result = CHAT_SCHEMAS[kind].safeParse(parsed);
        return result.success
          ? record(kind === 'discord' ? 204 : 200)
          : record(400, firstIssue(result.error));
      }
      case 'github': {
        const m = /^\/github\/repos\/([^/]+\/[^/]+)\/statuses\/([0-9a-f]{40})$/.exec(path);
        if (!m?.[1] || !m[2]) return record(404, 'Not Found');
        if (req.headers['authorization'] !== `Bearer ${this.token}`) return record(401, 'Bad credentials');
        if (!String(req.headers['accept']).includes('application/vnd.github')) return record(415, 'Accept');
        const result = GitHubStatusRequest.safeParse(parsed);
        if (!result.success) return record(422, `Validation Failed: ${firstIssue(result.error)}`);
        this.store('github', m[1], m[2], result.data.state, result.data.context ?? 'default', result.data);
        return record(201);
      }
      case 'gitlab': {
        const m = /^\/gitlab\/api\/v4\/projects\/([^/]+)\/statuses\/([0-9a-f]{40})$/.exec(path);
        if (!m?.[1] || !m[2]) return record(404, '404 Not Found');
        if (req.headers['private-token'] !== this.token) return record(401, '401 Unauthorized');
        const result = GitLabStatusRequest.safeParse(parsed);
        if (!result.success) return record(400, firstIssue(result.error));
        const name = result.data.name ?? result.data.context ?? 'default';
        this.store('gitlab', decodeURIComponent(m[1]), m[2], result.data.state, name, result.data);
        return record(201);
      }
      default:
        return record(404, 'no such service');
    }
  }

  private store(
    service: StoredStatus['service'],
    repository: string,
    sha: string,
    state: string,
    context: string,
    body: { description?: string | undefined; target_url?: string | undefined },
  ): void {
    // Both APIs keep one current status per commit and context; a newer one replaces it.
    const i = this.statuses.findIndex(
      (s) => s.service === service && s.repository === repository && s.sha === sha && s.context === context,
    );
    const status: StoredStatus = {
      service,
      repository,
      sha,
      state,
      context,
      description: body.description ?? '',
      targetUrl: body.target_url ?? null,
    };
    if (i >= 0) this.statuses[i] = status;
    else this.statuses.push(status);
  }
}
