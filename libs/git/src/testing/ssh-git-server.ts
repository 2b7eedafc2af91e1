import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { createServer, connect } from 'node:net';
import { userInfo } from 'node:os';
import { join } from 'node:path';

const SSHD = '/usr/sbin/sshd';

/**
 * A real SSH Git server for tests: OpenSSH's sshd on a free local port, its own host key and an
 * authorized_keys file, logging in as the current user so `git-upload-pack <abs path>` serves
 * any repository on disk. Needs the openssh-server package (scripts/apt-packages.sh).
 */
export class SshGitServer {
  private constructor(
    private readonly child: ChildProcess,
    readonly port: number,
    /** A known_hosts line for this server. */
    readonly knownHosts: string,
    /** The client's private key, authorized to log in. */
    readonly identity: string,
  ) {}

  static async start(dir: string): Promise<SshGitServer> {
    await mkdir(dir, { recursive: true });
    const key = (name: string) => {
      execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', name, '-f', join(dir, name)]);
      return join(dir, name);
    };
    const hostKey = key('host_key');
    const clientKey = key('client_key');
    await writeFile(join(dir, 'authorized_keys'), await readFile(`${clientKey}.pub`), { mode: 0o600 });
    const port = await freePort();
    const config = [
      `Port ${port}`,
      'ListenAddress 127.0.0.1',
      `HostKey ${hostKey}`,
      `AuthorizedKeysFile ${join(dir, 'authorized_keys')}`,
      `PidFile ${join(dir, 'sshd.pid')}`,
      `AllowUsers ${userInfo().username}`,
      'PermitRootLogin prohibit-password',
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      'UsePAM no',
      'StrictModes no',
    ].join('\n');
    await writeFile(join(dir, 'sshd_config'), `${config}\n`);
    // sshd running as root insists on its privilege-separation directory; /run is a tmpfs that
    // a container may start without it.
    if (process.getuid?.() === 0) await mkdir('/run/sshd', { recursive: true, mode: 0o755 });
    const child = spawn(SSHD, ['-D', '-e', '-f', join(dir, 'sshd_config')], { stdio: 'ignore' });
    await waitForPort(port, child);
    const hostPub = (await readFile(`${hostKey}.pub`, 'utf8')).trim().split(' ').slice(0, 2).join(' ');
    return new SshGitServer(
      child,
      port,
      `[127.0.0.1]:${port} ${hostPub}\n`,
      await readFile(clientKey, 'utf8'),
    );
  }

  /** The clone URL of a bare repository at an absolute path. */
  url(absolutePath: string): string {
    return `ssh://${userInfo().username}@127.0.0.1:${this.port}${absolutePath}`;
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null) return;
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    this.child.kill('SIGTERM');
    await exited;
  }
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

async function waitForPort(port: number, child: ChildProcess): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`sshd exited with ${child.exitCode}`);
    const open = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1', () => {
        socket.end();
        resolve(true);
      });
      socket.on('error', () => resolve(false));
    });
    if (open) return;
    if (Date.now() > deadline) throw new Error(`sshd did not listen on ${port}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
