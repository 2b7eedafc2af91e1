import { clip, objectLines, type DeployNotice } from './deploy-notice.js';

/*
 * One renderer per chat service, each producing the body its incoming webhook accepts. Field
 * limits are the services' documented ones; a longer value is clipped, never rejected.
 */

/** Slack mrkdwn treats &, < and > as control characters. */
const slackEscape = (s: string): string =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

export interface SlackMessage {
  text: string;
  blocks: (
    | { type: 'header'; text: { type: 'plain_text'; text: string } }
    | {
        type: 'section';
        text?: { type: 'mrkdwn'; text: string };
        fields?: { type: 'mrkdwn'; text: string }[];
      }
    | { type: 'context'; elements: { type: 'mrkdwn'; text: string }[] }
  )[];
}

/** Slack incoming webhook: `text` is the notification fallback, blocks the message. */
export function slackMessage(n: DeployNotice): SlackMessage {
  const field = (label: string, value: string) => ({
    type: 'mrkdwn' as const,
    text: clip(`*${label}*\n${slackEscape(value)}`, 2000),
  });
  return {
    text: clip(n.headline, 3000),
    blocks: [
      { type: 'header', text: { type: 'plain_text', text: clip(n.headline, 150) } },
      {
        type: 'section',
        fields: [
          field('What', n.what),
          field('Where', n.where),
          field('Commit', n.commit ?? '(none)'),
          field('Who', n.who),
        ],
      },
      { type: 'section', text: { type: 'mrkdwn', text: clip(slackEscape(objectLines(n)), 3000) } },
      {
        type: 'context',
        elements: [
          {
            type: 'mrkdwn',
            text: clip(
              `${slackEscape(n.detail)}${n.link ? ` · <${n.link}|Open the deploy in Capstan>` : ''}`,
              3000,
            ),
          },
        ],
      },
    ],
  };
}

export interface TeamsMessage {
  type: 'message';
  attachments: {
    contentType: 'application/vnd.microsoft.card.adaptive';
    contentUrl: null;
    content: {
      $schema: string;
      type: 'AdaptiveCard';
      version: '1.4';
      body: (
        | { type: 'TextBlock'; text: string; wrap: true; weight?: 'Bolder'; size?: 'Medium'; color?: string }
        | { type: 'FactSet'; facts: { title: string; value: string }[] }
      )[];
      actions: { type: 'Action.OpenUrl'; title: string; url: string }[];
    };
  }[];
}

/** Microsoft Teams (Workflows / incoming webhook): a message carrying one Adaptive Card. */
export function teamsMessage(n: DeployNotice): TeamsMessage {
  return {
    type: 'message',
    attachments: [
      {
        contentType: 'application/vnd.microsoft.card.adaptive',
        contentUrl: null,
        content: {
          $schema: 'http://adaptivecards.io/schemas/adaptive-card.json',
          type: 'AdaptiveCard',
          version: '1.4',
          body: [
            {
              type: 'TextBlock',
              text: n.headline,
              wrap: true,
              weight: 'Bolder',
              size: 'Medium',
              ...(n.outcome === 'failed'
                ? { color: 'Attention' }
                : n.outcome === 'succeeded'
                  ? { color: 'Good' }
                  : {}),
            },
            {
              type: 'FactSet',
              facts: [
                { title: 'What', value: n.what },
                { title: 'Where', value: n.where },
                { title: 'Commit', value: n.commit ?? '(none)' },
                { title: 'Who', value: n.who },
                { title: 'Objects', value: objectLines(n).replace(/\n/g, ', ') },
              ],
            },
            { type: 'TextBlock', text: n.detail, wrap: true },
          ],
          actions: n.link
            ? [{ type: 'Action.OpenUrl', title: 'Open the deploy in Capstan', url: n.link }]
            : [],
        },
      },
    ],
  };
}

export interface DiscordMessage {
  username: string;
  content: string;
  embeds: {
    title: string;
    url?: string;
    description: string;
    color: number;
    timestamp: string;
    fields: { name: string; value: string; inline: boolean }[];
  }[];
  allowed_mentions: { parse: [] };
}

const DISCORD_COLOR: Record<DeployNotice['outcome'], number> = {
  succeeded: 0x2eb67d,
  failed: 0xe01e5a,
  noop: 0x9e9e9e,
};

/** Discord webhook: one embed; mentions off so a commit message never pings a channel. */
export function discordMessage(n: DeployNotice): DiscordMessage {
  const field = (name: string, value: string, inline: boolean) => ({
    name,
    value: clip(value, 1024),
    inline,
  });
  return {
    username: 'Capstan',
    content: clip(n.headline, 2000),
    embeds: [
      {
        title: clip(n.headline, 256),
        ...(n.link ? { url: n.link } : {}),
        description: clip(n.detail, 4096),
        color: DISCORD_COLOR[n.outcome],
        timestamp: n.time,
        fields: [
          field('What', n.what, true),
          field('Where', n.where, true),
          field('Commit', n.commit ?? '(none)', false),
          field('Who', n.who, false),
          field('Objects', objectLines(n), false),
        ],
      },
    ],
    allowed_mentions: { parse: [] },
  };
}

export interface GoogleChatMessage {
  text: string;
  cardsV2: {
    cardId: string;
    card: {
      header: { title: string; subtitle: string };
      sections: {
        widgets: (
          | { decoratedText: { topLabel: string; text: string; wrapText: true } }
          | { buttonList: { buttons: { text: string; onClick: { openLink: { url: string } } }[] } }
        )[];
      }[];
    };
  }[];
}

/** Google Chat incoming webhook: `text` for notifications, a card with the facts and a button. */
export function googleChatMessage(n: DeployNotice, cardId: string): GoogleChatMessage {
  const fact = (topLabel: string, text: string) => ({
    decoratedText: { topLabel, text, wrapText: true as const },
  });
  return {
    text: n.headline,
    cardsV2: [
      {
        cardId,
        card: {
          header: { title: clip(n.headline, 200), subtitle: n.where },
          sections: [
            {
              widgets: [
                fact('What', n.what),
                fact('Commit', n.commit ?? '(none)'),
                fact('Who', n.who),
                fact('Objects', objectLines(n)),
                fact('Detail', n.detail),
                ...(n.link
                  ? [
                      {
                        buttonList: {
                          buttons: [
                            { text: 'Open the deploy in Capstan', onClick: { openLink: { url: n.link } } },
                          ],
                        },
                      },
                    ]
                  : []),
              ],
            },
          ],
        },
      },
    ],
  };
}
