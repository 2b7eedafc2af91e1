/** Helm values: a YAML mapping. */
export type Values = Record<string, unknown>;

export function isMapping(v: unknown): v is Values {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Helm's coalescing for user-supplied layers: mappings merge key by key, anything else (lists
 * included) is replaced by the later layer. Inputs are never mutated.
 */
export function mergeValues(base: Values, overlay: Values): Values {
  const out: Values = { ...base };
  for (const [key, value] of Object.entries(overlay)) {
    const current = out[key];
    out[key] = isMapping(current) && isMapping(value) ? mergeValues(current, value) : value;
  }
  return out;
}
