/**
 * The environment git runs with. simple-git replaces the environment wholesale (and guards
 * against variables that change git's behaviour), so we pass only what git needs, and never
 * let it prompt for credentials: a missing secret must fail fast, not hang a worker.
 */
export function gitEnv(): Record<string, string> {
  const keep = ['PATH', 'HOME', 'LANG', 'TMPDIR'];
  const env: Record<string, string> = { GIT_TERMINAL_PROMPT: '0' };
  for (const k of keep) {
    const v = process.env[k];
    if (v !== undefined) env[k] = v;
  }
  return env;
}
