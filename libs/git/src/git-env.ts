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

/**
 * `env` with configuration pairs added as GIT_CONFIG_KEY_n/VALUE_n after any it holds already
 * (credentials travel the same way): never in argv, where `ps` would show them. Pure.
 */
export function withGitConfig(
  env: Record<string, string>,
  pairs: readonly (readonly [string, string])[],
): Record<string, string> {
  if (pairs.length === 0) return env;
  const count = Number(env['GIT_CONFIG_COUNT'] ?? '0');
  const out: Record<string, string> = { ...env, GIT_CONFIG_COUNT: String(count + pairs.length) };
  for (const [i, [key, value]] of pairs.entries()) {
    out[`GIT_CONFIG_KEY_${count + i}`] = key;
    out[`GIT_CONFIG_VALUE_${count + i}`] = value;
  }
  return out;
}
