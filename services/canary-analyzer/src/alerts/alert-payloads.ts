/**
 * Alert bodies in each chat system's own shape, as Flagger's notifiers send them: Slack's
 * attachments (Discord and Rocket.Chat take the same through their Slack-compatible hooks), an MS
 * Teams MessageCard, a Google Chat card, and a generic body shaped like Flux's Event.
 */
export type ProviderType = 'slack' | 'discord' | 'rocket' | 'msteams' | 'gchat' | 'generic';

export interface Alert {
  canary: { namespace: string; name: string };
  severity: 'info' | 'warn' | 'error';
  reason: string;
  message: string;
  phase: string;
  revision: string;
  canaryWeight: number;
  failedChecks: number;
  at: string;
}

const colour = { info: '#2eb886', warn: '#daa038', error: '#a30200' };

export function alertPayload(
  type: ProviderType,
  a: Alert,
  opts: { channel: string; username: string },
): unknown {
  const title = `${a.canary.name}.${a.canary.namespace}`;
  const facts = [
    { name: 'Phase', value: a.phase },
    { name: 'Weight', value: `${a.canaryWeight}%` },
    { name: 'Failed checks', value: String(a.failedChecks) },
    { name: 'Revision', value: a.revision },
  ];
  switch (type) {
    case 'slack':
    case 'discord':
    case 'rocket':
      return {
        channel: opts.channel,
        username: opts.username,
        icon_url: 'https://raw.githubusercontent.com/fluxcd/flagger/main/docs/logo/flagger-icon.png',
        attachments: [
          {
            color: colour[a.severity],
            author_name: title,
            text: a.message,
            mrkdwn_in: ['text'],
            fields: facts.map((f) => ({ title: f.name, value: f.value, short: true })),
          },
        ],
      };
    case 'msteams':
      return {
        '@type': 'MessageCard',
        '@context': 'http://schema.org/extensions',
        themeColor: colour[a.severity].slice(1),
        summary: title,
        sections: [{ activityTitle: a.message, activitySubtitle: title, facts }],
      };
    case 'gchat':
      return {
        cards: [
          {
            header: { title, subtitle: a.reason },
            sections: [
              {
                widgets: [
                  { textParagraph: { text: a.message } },
                  ...facts.map((f) => ({ keyValue: { topLabel: f.name, content: f.value } })),
                ],
              },
            ],
          },
        ],
      };
    case 'generic':
      return {
        involvedObject: {
          kind: 'Canary',
          namespace: a.canary.namespace,
          name: a.canary.name,
          apiVersion: 'flagger.app/v1beta1',
        },
        severity: a.severity === 'error' ? 'error' : 'info',
        timestamp: a.at,
        message: a.message,
        reason: a.reason,
        metadata: {
          revision: a.revision,
          phase: a.phase,
          canaryWeight: String(a.canaryWeight),
          failedChecks: String(a.failedChecks),
        },
        reportingController: 'capstan-canary-analyzer',
      };
  }
}

/** The URL a provider posts to: Discord's Slack-compatible endpoint is the webhook plus `/slack`. */
export function alertUrl(type: ProviderType, address: string): string {
  return type === 'discord' && !address.endsWith('/slack') ? `${address.replace(/\/$/, '')}/slack` : address;
}

/** Flagger: info gets everything, warn approvals and failures, error failures only. */
export function wants(
  alertSeverity: 'info' | 'warn' | 'error',
  eventSeverity: 'info' | 'warn' | 'error',
): boolean {
  const rank = { info: 0, warn: 1, error: 2 };
  return rank[eventSeverity] >= rank[alertSeverity];
}
