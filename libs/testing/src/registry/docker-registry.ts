import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { randomBytes } from 'node:crypto';
import { freePorts } from '../cluster/ports.js';
import { writeOciLayout, type TestImage } from './oci-layout.js';

const execFileAsync = promisify(execFile);

export const DOCKER_REGISTRY_BIN = process.env['CAPSTAN_DOCKER_REGISTRY_BIN'] ?? '/usr/bin/docker-registry';

export interface NotificationEndpoint {
  url: string;
  /** Sent as `Authorization: Bearer <token>` with every notification. */
  token?: string;
}

export interface DockerRegistryOptions {
  notifications?: NotificationEndpoint[];
  /** Token auth (distribution's `auth.token`) against a TokenServer. */
  tokenAuth?: { realm: string; service: string; issuer: string; certPath: string };
}

export interface PushOptions extends TestImage {
  credentials?: { username: string; password: string };
}

/**
 * Debian's `docker-registry` (distribution 2.8) on a free loopback port with its own storage,
 * optionally sending notifications and requiring token auth. Images are pushed with `skopeo`.
 */
export class DockerRegistry {
  private constructor(
    readonly host: string,
    readonly dir: string,
    private readonly child: ChildProcess,
    private readonly exited: { value: boolean },
  ) {}

  get url(): string {
    return `http://${this.host}`;
  }

  get logPath(): string {
    return join(this.dir, 'registry.log');
  }

  static async start(options: DockerRegistryOptions = {}): Promise<DockerRegistry> {
    const dir = await mkdtemp(join(tmpdir(), 'capstan-registry-'));
    const [port] = await freePorts(1);
    const host = `127.0.0.1:${port ?? 0}`;
    await writeFile(join(dir, 'config.yml'), configYaml(dir, host, options));
    const log = createWriteStream(join(dir, 'registry.log'));
    const child = spawn(DOCKER_REGISTRY_BIN, ['serve', join(dir, 'config.yml')], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout.pipe(log);
    child.stderr.pipe(log);
    const exited = { value: false };
    child.once('exit', () => (exited.value = true));
    const registry = new DockerRegistry(host, dir, child, exited);
    const deadline = Date.now() + 20_000;
    for (;;) {
      if (exited.value) throw new Error(`docker-registry exited at start; see ${join(dir, 'registry.log')}`);
      const res = await fetch(`http://${host}/v2/`).catch(() => undefined);
      if (res && (res.status === 200 || res.status === 401)) break;
      if (Date.now() > deadline)
        throw new Error(`docker-registry not ready on ${host}; see ${join(dir, 'registry.log')}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    return registry;
  }

  /** Pushes a generated image as `<repository>:<tag>` with skopeo; returns the pushed manifest's digest. */
  async push(repository: string, tag: string, image: PushOptions = {}): Promise<string> {
    const layout = join(
      this.dir,
      'layouts',
      `${repository.replaceAll('/', '_')}-${tag}-${randomBytes(3).toString('hex')}`,
    );
    await writeOciLayout(layout, tag, { salt: `${repository}:${tag}`, ...image });
    const digestFile = `${layout}.digest`;
    const args = [
      'copy',
      '--quiet',
      '--dest-tls-verify=false',
      '--digestfile',
      digestFile,
      ...((image.platforms?.length ?? 0) > 1 ? ['--all'] : []),
      ...(image.credentials
        ? ['--dest-creds', `${image.credentials.username}:${image.credentials.password}`]
        : []),
      `oci:${layout}:${tag}`,
      `docker://${this.host}/${repository}:${tag}`,
    ];
    await execFileAsync('skopeo', args, { env: { ...process.env, HOME: this.dir } });
    const digest = (await readFile(digestFile, 'utf8')).trim();
    await rm(layout, { recursive: true, force: true });
    return digest;
  }

  async stop(): Promise<void> {
    if (!this.exited.value) {
      const done = new Promise((r) => this.child.once('exit', r));
      this.child.kill('SIGTERM');
      await Promise.race([done, new Promise((r) => setTimeout(r, 5_000))]);
      if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
    }
    await rm(this.dir, { recursive: true, force: true });
  }
}

function configYaml(dir: string, host: string, options: DockerRegistryOptions): string {
  const lines = [
    'version: 0.1',
    'log:',
    '  level: warn',
    '  accesslog: {disabled: true}',
    'storage:',
    `  filesystem: {rootdirectory: ${JSON.stringify(join(dir, 'data'))}}`,
    '  delete: {enabled: true}',
    '  cache: {blobdescriptor: inmemory}',
    'http:',
    `  addr: ${host}`,
    `  secret: ${randomBytes(16).toString('hex')}`,
  ];
  if (options.notifications?.length) {
    lines.push('notifications:', '  events: {includereferences: true}', '  endpoints:');
    options.notifications.forEach((n, i) => {
      lines.push(
        `    - name: capstan-${i}`,
        `      url: ${JSON.stringify(n.url)}`,
        ...(n.token ? [`      headers: {Authorization: [${JSON.stringify(`Bearer ${n.token}`)}]}`] : []),
        '      timeout: 2s',
        '      threshold: 3',
        '      backoff: 100ms',
      );
    });
  }
  if (options.tokenAuth) {
    const t = options.tokenAuth;
    lines.push(
      'auth:',
      '  token:',
      `    realm: ${JSON.stringify(t.realm)}`,
      `    service: ${JSON.stringify(t.service)}`,
      `    issuer: ${JSON.stringify(t.issuer)}`,
      `    rootcertbundle: ${JSON.stringify(t.certPath)}`,
    );
  }
  return lines.join('\n') + '\n';
}
