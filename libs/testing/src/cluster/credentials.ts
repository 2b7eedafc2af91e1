// Credentials of a local cluster, made with node:crypto alone (no openssl needed).
// They are kept in the cluster dir and reused on restart, so tokens issued before a
// `cluster-cli stop` / `start` stay valid.
import { generateKeyPair, randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';

const generateKeyPairAsync = promisify(generateKeyPair);

export interface Credentials {
  /** Bearer token of the admin user (group system:masters), from the static token file. */
  adminToken: string;
  tokenFile: string;
  /** Service-account signing key (kube-apiserver signs, kube-controller-manager signs legacy tokens). */
  saPrivateKeyFile: string;
  saPublicKeyFile: string;
}

export const ADMIN_USER = 'capstan-admin';

export async function ensureCredentials(pkiDir: string): Promise<Credentials> {
  const creds: Credentials = {
    adminToken: '',
    tokenFile: join(pkiDir, 'tokens.csv'),
    saPrivateKeyFile: join(pkiDir, 'sa.key'),
    saPublicKeyFile: join(pkiDir, 'sa.pub'),
  };
  if (!existsSync(creds.saPrivateKeyFile) || !existsSync(creds.saPublicKeyFile)) {
    const { privateKey, publicKey } = await generateKeyPairAsync('rsa', {
      modulusLength: 2048,
      publicKeyEncoding: { type: 'spki', format: 'pem' },
      privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    });
    writeFileSync(creds.saPublicKeyFile, publicKey, { mode: 0o600 });
    writeFileSync(creds.saPrivateKeyFile, privateKey, { mode: 0o600 });
  }
  if (existsSync(creds.tokenFile)) {
    creds.adminToken = readFileSync(creds.tokenFile, 'utf8').split(',')[0] ?? '';
  }
  if (!creds.adminToken) {
    creds.adminToken = randomBytes(24).toString('hex');
    // Format: token,user,uid,"group1,group2" (kube-apiserver --token-auth-file).
    writeFileSync(creds.tokenFile, `${creds.adminToken},${ADMIN_USER},${ADMIN_USER},"system:masters"\n`, {
      mode: 0o600,
    });
  }
  return creds;
}
