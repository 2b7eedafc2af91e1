import { spawn } from 'node:child_process';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A load tester compatible with Flagger's loadtester API, so Flagger Canaries' webhooks work
 * unchanged: POST / runs `metadata.cmd` (type `cmd`: in the background, deduplicated while the
 * same command runs, 202; types `bash`, `helm`/`helmv3` and `kubectl`: blocking, 200 (the output
 * with `returnCmdOutput: "true"`) or 500 with the error), and the gate
 * endpoints (/gate/approve, /gate/halt, /gate/check|open|close, /rollback/check|open|close).
 */
export interface LoadTesterOptions {
  port: number;
  host: string;
  /** Rewrites a command before it runs; tests map Service names to loopback addresses. */
  rewrite?: (cmd: string) => string;
  /** How long a blocking (`bash`) command may take. */
  bashTimeoutMs?: number;
  log?: (line: string) => void;
}

interface HookPayload {
  name?: string;
  namespace?: string;
  metadata?: Record<string, string>;
}

export interface LoadTester {
  port: number;
  /** Commands started (background and blocking), for tests and logs. */
  commands: string[];
  close(): Promise<void>;
}

export async function startLoadTester(o: LoadTesterOptions): Promise<LoadTester> {
  const running = new Set<string>();
  const children = new Set<ReturnType<typeof spawn>>();
  const gates = new Set<string>();
  const rollbacks = new Set<string>();
  const commands: string[] = [];
  const log = o.log ?? (() => undefined);

  const run = (cmd: string, timeoutMs?: number) =>
    new Promise<{ code: number | null; output: string }>((resolve) => {
      const child = spawn('bash', ['-c', cmd], {
        stdio: ['ignore', 'pipe', 'pipe'],
        ...(timeoutMs ? { timeout: timeoutMs } : {}),
      });
      children.add(child);
      let output = '';
      const add = (b: Buffer) => {
        if (output.length < 64_000) output += b.toString();
      };
      child.stdout.on('data', add);
      child.stderr.on('data', add);
      child.on('close', (code) => {
        children.delete(child);
        resolve({ code, output });
      });
    });

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const body = await readBody(req);
    let payload: HookPayload = {};
    try {
      payload = body ? (JSON.parse(body) as HookPayload) : {};
    } catch {
      return send(res, 400, 'request body is not JSON');
    }
    const key = `${payload.name ?? ''}.${payload.namespace ?? ''}`;
    switch (req.url ?? '') {
      case '/gate/approve':
        return send(res, 200, 'Approved');
      case '/gate/halt':
        return send(res, 403, 'Forbidden');
      case '/gate/check':
        return gates.has(key) ? send(res, 200, 'Approved') : send(res, 403, 'Forbidden');
      case '/gate/open':
        gates.add(key);
        return send(res, 202, 'Gate opened');
      case '/gate/close':
        gates.delete(key);
        return send(res, 202, 'Gate closed');
      case '/rollback/check':
        return rollbacks.has(key) ? send(res, 200, 'Rollback requested') : send(res, 403, 'No rollback');
      case '/rollback/open':
        rollbacks.add(key);
        return send(res, 202, 'Rollback opened');
      case '/rollback/close':
        rollbacks.delete(key);
        return send(res, 202, 'Rollback closed');
      case '/':
      case '':
        break;
      default:
        return send(res, 404, `no such endpoint ${req.url ?? ''}`);
    }
    const meta = payload.metadata;
    const raw = meta?.['cmd'];
    if (!meta || !raw) return send(res, 400, 'metadata.cmd is required');
    const cmd = o.rewrite ? o.rewrite(raw) : raw;
    const type = meta['type'] ?? 'cmd';
    if (type === 'cmd') {
      if (running.has(cmd)) return send(res, 202, 'command already running');
      running.add(cmd);
      commands.push(cmd);
      log(`command started: ${cmd}`);
      void run(cmd).then(({ code }) => {
        running.delete(cmd);
        log(`command finished (${String(code)}): ${cmd}`);
      });
      return send(res, 202, 'command started');
    }
    const blocking = blockingCommand(type, cmd);
    if (typeof blocking === 'object') return send(res, 400, blocking.error);
    if (blocking !== undefined) {
      commands.push(blocking);
      const { code, output } = await run(blocking, o.bashTimeoutMs ?? 60_000);
      if (code !== 0)
        return send(res, 500, `command ${blocking} failed: ${output || `exit ${String(code)}`}`);
      return send(res, 200, meta['returnCmdOutput'] === 'true' ? output : 'ok');
    }
    return send(res, 400, `type ${type} is not supported (${[...TYPES].join(', ')})`);
  };

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((e: unknown) => send(res, 500, String(e)));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port, o.host, resolve);
  });
  return {
    port: (server.address() as AddressInfo).port,
    commands,
    close: async () => {
      for (const c of children) c.kill('SIGTERM');
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

const TYPES = ['cmd', 'bash', 'helm', 'helmv3', 'kubectl'] as const;

/**
 * The blocking task types, as Flagger's load tester runs them: `bash` runs the command as
 * written, `helm`/`helmv3` run it as helm's arguments (Helm 3 is `helm` here), `kubectl` only a
 * command that is a kubectl command. Undefined: not a blocking type. (`ngrinder` and `concord`
 * drive external servers Capstan does not ship; they answer 400.)
 */
export function blockingCommand(type: string, cmd: string): string | { error: string } | undefined {
  switch (type) {
    case 'bash':
      return cmd;
    case 'helm':
    case 'helmv3':
      return `helm ${cmd}`;
    case 'kubectl':
      return /^kubectl(\s|$)/.test(cmd.trim())
        ? cmd
        : { error: `type kubectl runs kubectl commands only, not "${cmd}"` };
    default:
      return undefined;
  }
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let s = '';
    req.on('data', (c: Buffer) => (s += c.toString()));
    req.on('end', () => resolve(s));
    req.on('error', reject);
  });
}

function send(res: ServerResponse, status: number, text: string): void {
  res.writeHead(status, { 'Content-Type': 'text/plain' });
  res.end(text);
}
