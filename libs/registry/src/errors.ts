/** A registry answered something we cannot use; names the registry, the URL and the OCI error code. */
export class RegistryError extends Error {
  constructor(
    readonly registry: string,
    readonly url: string,
    readonly status: number,
    readonly code: string | undefined,
    detail: string,
  ) {
    super(`${registry}: ${status}${code ? ` ${code}` : ''} from ${url}${detail ? `: ${detail}` : ''}`);
    this.name = 'RegistryError';
  }
}

/** The per-registry request budget ran out before the work finished. */
export class RegistryBudgetError extends Error {
  constructor(
    readonly registry: string,
    readonly budget: number,
  ) {
    super(`${registry}: request budget of ${budget} request(s) per scan exhausted`);
    this.name = 'RegistryBudgetError';
  }
}

/** A manifest or config that does not have the shape the OCI/Docker specs give it. */
export class ManifestError extends Error {
  constructor(
    readonly image: string,
    reason: string,
  ) {
    super(`${image}: ${reason}`);
    this.name = 'ManifestError';
  }
}

/** The `errors[0].code` of an OCI error body (`MANIFEST_UNKNOWN`, `TOOMANYREQUESTS`...), if any. */
export function ociErrorCode(body: string): { code?: string; message?: string } {
  try {
    const parsed = JSON.parse(body) as { errors?: { code?: unknown; message?: unknown }[] };
    const first = parsed.errors?.[0];
    return {
      ...(typeof first?.code === 'string' ? { code: first.code } : {}),
      ...(typeof first?.message === 'string' ? { message: first.message } : {}),
    };
  } catch {
    return {};
  }
}
