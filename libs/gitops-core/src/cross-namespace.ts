/**
 * Cross-namespace references (pure). A tenant owns a namespace; an object in it may name objects
 * elsewhere only when the installation allows it (ALLOW_CROSS_NAMESPACE_REFS, chart value
 * tenancy.allowCrossNamespaceRefs). Every service that follows a reference asks here, so the
 * rule and its wording are the same everywhere.
 */
export const CROSS_NAMESPACE_REASON = 'CrossNamespaceRefNotAllowed';

export interface CrossNamespaceRefusal {
  reason: typeof CROSS_NAMESPACE_REASON;
  message: string;
}

/**
 * Why `field` of an object in `from` may not name `ref`, or undefined when it may (same namespace,
 * no namespace given, or cross-namespace references allowed).
 */
export function crossNamespaceRefusal(
  field: string,
  from: string,
  ref: { kind: string; name: string; namespace?: string | undefined },
  allowed: boolean,
): CrossNamespaceRefusal | undefined {
  if (allowed || ref.namespace === undefined || ref.namespace === '' || ref.namespace === from)
    return undefined;
  return {
    reason: CROSS_NAMESPACE_REASON,
    message: `${field}: ${ref.kind} ${ref.namespace}/${ref.name} is in another namespace than ${from}; cross-namespace references are off (tenancy.allowCrossNamespaceRefs)`,
  };
}
