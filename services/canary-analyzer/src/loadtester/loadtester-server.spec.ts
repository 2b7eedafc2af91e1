import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startLoadTester, type LoadTester } from './loadtester-server.js';

// The load tester as Flagger's webhooks call it: a real HTTP server running real commands
// (bash, the toolchain's helm) on this machine.
describe("load tester: Flagger's task types and gates", () => {
  let lt: LoadTester;
  const post = async (path: string, body: unknown) => {
    const res = await fetch(`http://127.0.0.1:${lt.port}${path}`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(body),
    });
    return { status: res.status, text: await res.text() };
  };
  const hook = (metadata: Record<string, string>) => ({ name: 'podinfo', namespace: 'test', metadata });

  before(async () => {
    lt = await startLoadTester({ port: 0, host: '127.0.0.1' });
  });
  after(async () => {
    await lt.close();
  });

  it('cmd runs in the background (202) and the same command is not started twice while it runs', async () => {
    assert.equal((await post('/', hook({ cmd: 'sleep 2' }))).status, 202);
    const again = await post('/', hook({ type: 'cmd', cmd: 'sleep 2' }));
    assert.deepEqual(again, { status: 202, text: 'command already running' });
    assert.equal(lt.commands.filter((c) => c === 'sleep 2').length, 1);
  });

  it('bash blocks: 200 (with the output when asked), 500 with the error', async () => {
    assert.deepEqual(await post('/', hook({ type: 'bash', cmd: 'echo hi', returnCmdOutput: 'true' })), {
      status: 200,
      text: 'hi\n',
    });
    const failed = await post('/', hook({ type: 'bash', cmd: 'echo broken >&2; exit 3' }));
    assert.equal(failed.status, 500);
    assert.match(failed.text, /broken/);
  });

  it('helm and helmv3 run helm with the command as its arguments', async () => {
    for (const type of ['helm', 'helmv3']) {
      const r = await post('/', hook({ type, cmd: 'version --short', returnCmdOutput: 'true' }));
      assert.equal(r.status, 200, r.text);
      assert.match(r.text, /^v3\./);
    }
    assert.ok(lt.commands.includes('helm version --short'));
  });

  it('kubectl runs kubectl commands only; unknown types and missing metadata are 400', async () => {
    const notKubectl = await post('/', hook({ type: 'kubectl', cmd: 'rm -rf /tmp/x' }));
    assert.equal(notKubectl.status, 400);
    assert.match(notKubectl.text, /kubectl commands only/);
    const ngrinder = await post('/', hook({ type: 'ngrinder', cmd: 'x' }));
    assert.equal(ngrinder.status, 400);
    assert.match(ngrinder.text, /ngrinder is not supported \(cmd, bash, helm, helmv3, kubectl\)/);
    assert.equal((await post('/', { name: 'podinfo', namespace: 'test' })).status, 400);
  });

  it('gates: approve, halt, and check after open until closed', async () => {
    const id = { name: 'podinfo', namespace: 'test' };
    assert.equal((await post('/gate/approve', id)).status, 200);
    assert.equal((await post('/gate/halt', id)).status, 403);
    assert.equal((await post('/gate/check', id)).status, 403);
    assert.equal((await post('/gate/open', id)).status, 202);
    assert.equal((await post('/gate/check', id)).status, 200);
    assert.equal((await post('/gate/close', id)).status, 202);
    assert.equal((await post('/gate/check', id)).status, 403);
    assert.equal((await post('/rollback/check', id)).status, 403);
    assert.equal((await post('/rollback/open', id)).status, 202);
    assert.equal((await post('/rollback/check', id)).status, 200);
  });
});
