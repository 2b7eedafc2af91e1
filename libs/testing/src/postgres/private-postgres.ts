import { execFile, execFileSync } from 'node:child_process';
import { chown, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePorts } from '../cluster/ports.js';

const run = promisify(execFile);

/** The Debian/Ubuntu layout of the PostgreSQL 15 server binaries. */
export const DEFAULT_POSTGRES_BIN_DIR = '/usr/lib/postgresql/15/bin';

export interface PrivatePostgresOptions {
  binDir?: string;
  /** Extra `-c name=value` server settings. */
  settings?: Record<string, string | number>;
}

/** A PostgreSQL server of the test's own, which it may stop and start at will. */
export interface PrivatePostgres {
  /** Superuser URL of the `postgres` database (trust auth on 127.0.0.1). */
  url: string;
  port: number;
  dataDir: string;
  /** Fast shutdown: open sessions are terminated, as in a real outage or restart. */
  stop(): Promise<void>;
  /** Starts it again on the same port and data; resolves once it accepts connections. */
  start(): Promise<void>;
  /** Stops it and removes its files. */
  destroy(): Promise<void>;
}

export class PrivatePostgresError extends Error {
  constructor(
    readonly step: string,
    readonly dataDir: string,
    cause: unknown,
    readonly serverLog: string,
  ) {
    super(
      `private postgres: ${step} failed in ${dataDir}: ${cause instanceof Error ? cause.message : String(cause)}` +
        (serverLog ? `\n--- server log (tail) ---\n${serverLog}` : ''),
      { cause },
    );
    this.name = 'PrivatePostgresError';
  }
}

// initdb and postgres refuse to run as root; the Debian packages always create this account.
const SERVER_USER = 'postgres';
const asRoot = () => process.getuid?.() === 0;
const command = (binary: string, args: string[]): [string, string[]] =>
  asRoot() ? ['runuser', ['-u', SERVER_USER, '--', binary, ...args]] : [binary, args];

const running = new Set<string>();
let exitHookInstalled = false;

/**
 * Starts a real PostgreSQL in a temp dir on a free port: initdb + pg_ctl, no shared state with
 * the machine's server. Tests that need the database to go away (outage, restart) use this,
 * never the shared server. A process that dies without `destroy()` still stops its servers.
 */
export async function startPrivatePostgres(options: PrivatePostgresOptions = {}): Promise<PrivatePostgres> {
  const bin = options.binDir ?? DEFAULT_POSTGRES_BIN_DIR;
  const root = await mkdtemp(join(tmpdir(), 'capstan-pg-'));
  const dataDir = join(root, 'data');
  const logFile = join(root, 'server.log');
  if (asRoot()) {
    const { stdout } = await run('id', ['-u', SERVER_USER]);
    const { stdout: gid } = await run('id', ['-g', SERVER_USER]);
    await chown(root, Number(stdout.trim()), Number(gid.trim()));
  }
  const [port] = await freePorts(1);
  if (port === undefined) throw new Error('no free port');
  const settings: Record<string, string | number> = {
    port,
    listen_addresses: '127.0.0.1',
    unix_socket_directories: root,
    // A test server: durability across a machine crash is irrelevant, speed is not.
    fsync: 'off',
    synchronous_commit: 'off',
    full_page_writes: 'off',
    max_connections: 100,
    ...options.settings,
  };
  const serverOptions = Object.entries(settings)
    .map(([k, v]) => `-c ${k}=${String(v)}`)
    .join(' ');
  const log = async () => (await readFile(logFile, 'utf8').catch(() => '')).split('\n').slice(-30).join('\n');
  const step = async (name: string, binary: string, args: string[]) => {
    const [file, argv] = command(join(bin, binary), args);
    try {
      await run(file, argv, { timeout: 120_000 });
    } catch (e) {
      throw new PrivatePostgresError(name, dataDir, e, await log());
    }
  };

  await step('initdb', 'initdb', [
    '-D',
    dataDir,
    '-U',
    'postgres',
    '-A',
    'trust',
    '-E',
    'UTF8',
    '--locale=C',
    '--no-sync',
  ]);
  const pgCtl = (...args: string[]) => ['-D', dataDir, ...args];
  installExitHook(bin);

  const server: PrivatePostgres = {
    url: `postgresql://postgres@127.0.0.1:${port}/postgres`,
    port,
    dataDir,
    async start() {
      await step('start', 'pg_ctl', pgCtl('-l', logFile, '-o', serverOptions, '-w', '-t', '60', 'start'));
      running.add(dataDir);
    },
    async stop() {
      await step('stop', 'pg_ctl', pgCtl('-m', 'fast', '-w', '-t', '60', 'stop'));
      running.delete(dataDir);
    },
    async destroy() {
      if (running.has(dataDir)) await server.stop();
      await rm(root, { recursive: true, force: true });
    },
  };
  await server.start();
  return server;
}

function installExitHook(bin: string): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const dataDir of running) {
      const [file, argv] = command(join(bin, 'pg_ctl'), ['-D', dataDir, '-m', 'immediate', 'stop']);
      try {
        execFileSync(file, argv, { stdio: 'ignore', timeout: 10_000 });
      } catch {
        // Best effort on the way out; nothing else can be done here.
      }
    }
  });
}
