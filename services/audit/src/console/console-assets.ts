import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The console's static files: the page and styles (console-app/public) and the compiled ES
 * modules (console-app/dist), read once at start. No bundler and no CDN: the browser loads
 * plain modules from this service.
 */
export interface ConsoleAsset {
  body: Buffer;
  contentType: string;
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
};

export const CONSOLE_APP_DIR = fileURLToPath(new URL('../../console-app/', import.meta.url));

export function loadConsoleAssets(root = CONSOLE_APP_DIR): Map<string, ConsoleAsset> {
  const assets = new Map<string, ConsoleAsset>();
  for (const dir of ['public', 'dist']) {
    const path = join(root, dir);
    if (!existsSync(path)) continue;
    for (const name of readdirSync(path)) {
      const contentType = TYPES[extname(name)];
      if (contentType) assets.set(name, { body: readFileSync(join(path, name)), contentType });
    }
  }
  return assets;
}

/** Only same-origin code and data; the page cannot be framed (clickjacking). */
export const CONSOLE_SECURITY_HEADERS: Record<string, string> = {
  'Content-Security-Policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'X-Frame-Options': 'DENY',
};
