import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Credentials for one remote, decoded from a Secret (`spec.secretRef`) the way Flux lays it out. */
export type GitCredentials =
  | { kind: 'basic'; username: string; password: string }
  | { kind: 'bearer'; token: string }
  | { kind: 'ssh'; identity: string; knownHosts: string };

/** The Secret named by `secretRef` cannot be used as git credentials: needs a spec or Secret change. */
export class GitCredentialsError extends Error {
  constructor(
    readonly secret: string,
    readonly detail: string,
  ) {
    super(`secret ${secret}: ${detail}`);
    this.name = 'GitCredentialsError';
  }
}

/**
 * Reads credentials from a Secret's decoded data. Pure. Which kind is chosen by the keys present
 * (`identity` -> SSH, `bearerToken` -> bearer, `username`+`password` -> basic), like Flux.
 */
export function credentialsFromSecret(secret: string, data: Record<string, string>): GitCredentials {
  if (data['identity'] !== undefined) {
    const knownHosts = data['known_hosts'];
    // Without known_hosts the first connection would trust whoever answers; refuse instead.
    if (!knownHosts) throw new GitCredentialsError(secret, 'key identity needs known_hosts beside it');
    return { kind: 'ssh', identity: withNewline(data['identity']), knownHosts: withNewline(knownHosts) };
  }
  if (data['bearerToken'] !== undefined) return { kind: 'bearer', token: data['bearerToken'].trim() };
  const { username, password } = data;
  if (username !== undefined && password !== undefined) return { kind: 'basic', username, password };
  throw new GitCredentialsError(
    secret,
    'expected username and password, bearerToken, or identity and known_hosts; found keys: ' +
      (Object.keys(data).sort().join(', ') || 'none'),
  );
}

/**
 * The environment that makes git authenticate, plus a cleanup. HTTP credentials travel as an
 * `http.extraHeader` set through GIT_CONFIG_* variables: never in the URL (which git stores in the
 * mirror's config and prints in errors) and never in argv (visible to `ps`).
 */
export async function credentialEnv(
  creds: GitCredentials | undefined,
): Promise<{ env: Record<string, string>; cleanup: () => Promise<void> }> {
  const none = { env: {}, cleanup: () => Promise.resolve() };
  if (!creds) return none;
  switch (creds.kind) {
    case 'basic':
      return {
        ...none,
        env: header(`Basic ${Buffer.from(`${creds.username}:${creds.password}`).toString('base64')}`),
      };
    case 'bearer':
      return { ...none, env: header(`Bearer ${creds.token}`) };
    case 'ssh': {
      const dir = await mkdtemp(join(tmpdir(), 'capstan-ssh-'));
      const identity = join(dir, 'identity');
      const knownHosts = join(dir, 'known_hosts');
      await writeFile(identity, creds.identity, { mode: 0o600 });
      await writeFile(knownHosts, creds.knownHosts, { mode: 0o600 });
      return {
        env: { GIT_SSH_COMMAND: sshCommand(identity, knownHosts) },
        cleanup: () => rm(dir, { recursive: true, force: true }),
      };
    }
  }
}

/** The ssh command line git runs: only our key, only known hosts, never a prompt. Pure. */
export function sshCommand(identityFile: string, knownHostsFile: string): string {
  return [
    'ssh',
    `-i ${shellQuote(identityFile)}`,
    `-o UserKnownHostsFile=${shellQuote(knownHostsFile)}`,
    '-o StrictHostKeyChecking=yes',
    '-o IdentitiesOnly=yes',
    '-o BatchMode=yes',
    '-F /dev/null',
  ].join(' ');
}

function header(value: string): Record<string, string> {
  return {
    GIT_CONFIG_COUNT: '1',
    GIT_CONFIG_KEY_0: 'http.extraHeader',
    GIT_CONFIG_VALUE_0: `Authorization: ${value}`,
  };
}

function withNewline(s: string): string {
  return s.endsWith('\n') ? s : `${s}\n`;
}

function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}
