import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { hasCredentials, withoutCredentials, withoutUserinfo } from './url-credentials.js';

void describe('withoutCredentials', () => {
  const cases: [string, string][] = [
    ['https://ada:hunter2@git.example.com/team/app.git', 'https://***@git.example.com/team/app.git'],
    ['https://ghp_abc123@github.com/o/r.git', 'https://***@github.com/o/r.git'],
    ['http://user@host/x', 'http://***@host/x'],
    ['ssh://git@github.com/o/r.git', 'ssh://git@github.com/o/r.git'],
    ['ssh://git:pw@github.com/o/r.git', 'ssh://git:***@github.com/o/r.git'],
    ['https://charts.example/index.yaml?token=abc&x=1', 'https://charts.example/index.yaml?token=***&x=1'],
    ['https://gitlab.example/x?private_token=t', 'https://gitlab.example/x?private_token=***'],
    [
      'https://s3.example/b?X-Amz-Credential=AK%2F1&X-Amz-Signature=ff&ver=2',
      'https://s3.example/b?X-Amz-Credential=***&X-Amz-Signature=***&ver=2',
    ],
    ['https://example.com/?author=ada&ref=main', 'https://example.com/?author=ada&ref=main'],
    ['git@github.com:o/r.git', 'git@github.com:o/r.git'],
    ['file:///srv/git/app', 'file:///srv/git/app'],
    [
      "git fetch failed: fatal: unable to access 'https://ada:pw@host/r.git/': 403",
      "git fetch failed: fatal: unable to access 'https://***@host/r.git/': 403",
    ],
  ];
  for (const [input, expected] of cases)
    void it(`${input} -> ${expected}`, () => {
      assert.equal(withoutCredentials(input), expected);
      assert.equal(withoutCredentials(expected), expected, 'idempotent');
      assert.equal(hasCredentials(input), input !== expected);
    });
});

void describe('withoutUserinfo', () => {
  void it('drops credentials for matching, masked or not, and keeps an SSH user', () => {
    assert.equal(withoutUserinfo('https://ada:pw@git.example/t/app.git'), 'https://git.example/t/app.git');
    assert.equal(withoutUserinfo('https://***@git.example/t/app.git'), 'https://git.example/t/app.git');
    assert.equal(withoutUserinfo('ssh://git:pw@host/r.git'), 'ssh://git@host/r.git');
    assert.equal(withoutUserinfo('ssh://git@host/r.git'), 'ssh://git@host/r.git');
    assert.equal(withoutUserinfo('file:///srv/x'), 'file:///srv/x');
  });
});
