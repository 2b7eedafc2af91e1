import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { topology } from '@capstan/events';
import { testEventPrefix, testNatsUrl } from '@capstan/testing';
import { Bus, publishAll, PublishAllError } from './index.js';

// Real NATS JetStream, a stream prefix of this file's own.
describe('publishAll', () => {
  const topo = topology(testEventPrefix());
  let bus: Bus;
  before(async () => {
    bus = await Bus.connect({ url: testNatsUrl(), topology: topo });
  });
  after(async () => {
    for (const s of [topo.streams.events.name, topo.streams.deadLetter.name]) await bus.jsm.streams.delete(s);
    await bus.close();
  });

  const subject = () => topo.cdeventSubject('dev.cdevents.service.deployed.0.2.0');

  it('stores every message in the order given and reports repeated msgIDs as duplicates', async () => {
    const messages = Array.from({ length: 300 }, (_, i) => ({
      subject: subject(),
      data: `{"n":${i}}`,
      msgID: `m-${i}`,
    }));
    const first = await publishAll(bus.nc, messages);
    assert.equal(first.length, 300);
    assert.ok(first.every((r) => !r.duplicate && r.stream === topo.streams.events.name));
    for (let i = 1; i < first.length; i++) assert.equal(first[i]!.seq, first[i - 1]!.seq + 1);
    const again = await publishAll(bus.nc, [
      messages[7]!,
      { subject: subject(), data: '{}', msgID: 'm-new' },
    ]);
    assert.deepEqual(
      again.map((r) => [r.duplicate, r.seq]),
      [
        [true, first[7]!.seq],
        [false, first.at(-1)!.seq + 1],
      ],
    );
    const stored = await bus.jsm.streams.getMessage(topo.streams.events.name, { seq: first[42]!.seq });
    assert.equal(stored?.string(), '{"n":42}');
  });

  it('rejects, naming the message, when no stream takes the subject', async () => {
    await assert.rejects(
      publishAll(bus.nc, [{ subject: `${testEventPrefix()}-nowhere.x`, data: '{}', msgID: 'lost' }], 5_000),
      (e: unknown) => e instanceof PublishAllError && e.msgID === 'lost' && /503/.test(e.message),
    );
  });

  it('does nothing for no messages', async () => {
    assert.deepEqual(await publishAll(bus.nc, []), []);
  });
});
