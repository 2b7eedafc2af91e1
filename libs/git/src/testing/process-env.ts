/** This process's environment plus `extra`, for the git and gpg commands tests run themselves. */
export function envWith(extra: Record<string, string>): NodeJS.ProcessEnv {
  return { ...process.env, ...extra };
}
