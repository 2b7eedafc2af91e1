import { chromium, type BrowserContext } from 'playwright-core';

/**
 * Debian's chromium, headless, with a persistent profile in `profileDir`, sized like a laptop
 * screen: how the console specs and the console-load benchmark see the console. The flags keep
 * it off the network (no sync, updates or background fetches: nothing but loopback here) and
 * runnable as root without a GPU.
 */
export function launchConsoleBrowser(profileDir: string): Promise<BrowserContext> {
  return chromium.launchPersistentContext(profileDir, {
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
    viewport: { width: 1360, height: 860 },
  });
}
