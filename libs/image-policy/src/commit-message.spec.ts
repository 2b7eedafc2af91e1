import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  commitMessage,
  correlationIdOf,
  humanRollback,
  parseFluxV1Filter,
  type MessageChange,
} from './index.js';

const change = (repository: string, tag: string): MessageChange => ({
  file: 'a.yaml',
  object: 'prod/Deployment/a',
  container: 'a',
  from: '1',
  to: { registry: 'ghcr.io', repository, tag },
});

describe('commit messages', () => {
  it('uses Flux v1 forms, [ci skip] and the correlation trailer', () => {
    assert.equal(commitMessage([change('acme/a', '2')]), 'Auto-release ghcr.io/acme/a:2');
    const many = commitMessage([change('acme/b', '3'), change('acme/a', '2')], {
      ciSkip: true,
      correlationId: 'push:1',
    });
    assert.equal(
      many,
      'Auto-release multiple (2) images\n\n - ghcr.io/acme/a:2\n - ghcr.io/acme/b:3\n\n[ci skip]\n\nCapstan-Correlation-Id: push:1',
    );
    assert.equal(correlationIdOf(many), 'push:1');
    assert.equal(correlationIdOf('Deploy v1'), undefined);
  });

  it('fills a template', () => {
    assert.equal(
      commitMessage([change('acme/a', '2')], {
        template: '{{automation}}: {{count}} image(s)\n{{changes}}',
        automation: 'apps/auto',
      }),
      'apps/auto: 1 image(s)\na.yaml: prod/Deployment/a a 1 -> ghcr.io/acme/a:2',
    );
  });
});

describe('human rollbacks', () => {
  const policy = parseFluxV1Filter('semver:~3.0');
  const ada = { name: 'Ada', email: 'ada@example.com' };
  const bot = { name: 'Capstan', email: 'capstan@example.com' };
  it('is a person moving the tag down; the automation or a later forward change ends it', () => {
    assert.deepEqual(
      humanRollback([{ sha: 's2', author: ada, before: '3.0.1', after: '3.0.0' }], bot.email, policy),
      {
        from: '3.0.1',
        to: '3.0.0',
        by: 'Ada',
        sha: 's2',
      },
    );
    assert.equal(
      humanRollback([{ sha: 's3', author: ada, before: '3.0.0', after: '3.0.2' }], bot.email, policy),
      undefined,
    );
    assert.equal(
      humanRollback([{ sha: 's4', author: bot, before: '3.0.2', after: '3.0.1' }], bot.email, policy),
      undefined,
    );
    assert.equal(humanRollback([], bot.email, policy), undefined);
  });
});
