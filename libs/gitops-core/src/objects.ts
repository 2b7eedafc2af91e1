/** A Kubernetes object as read from Git: only the fields Capstan itself relies on are typed. */
export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    [key: string]: unknown;
  };
  [key: string]: unknown;
}

/** Where in the repository an object came from, so every error can name the file and document. */
export interface ObjectOrigin {
  file: string;
  /** 0-based index of the YAML document in the file. */
  document: number;
}

export interface SourcedObject {
  object: KubeObject;
  origin: ObjectOrigin;
}

export function groupOf(apiVersion: string): string {
  const slash = apiVersion.indexOf('/');
  return slash === -1 ? '' : apiVersion.slice(0, slash);
}

/** `namespace/Kind/name` (namespace empty for cluster-scoped), for messages and maps. */
export function describeObject(o: { kind: string; metadata: { name: string; namespace?: string } }): string {
  return `${o.metadata.namespace ? o.metadata.namespace + '/' : ''}${o.kind}/${o.metadata.name}`;
}

/** Flux-compatible inventory id: `<namespace>_<name>_<group>_<Kind>`. */
export function inventoryId(o: {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string };
}): string {
  return `${o.metadata.namespace ?? ''}_${o.metadata.name}_${groupOf(o.apiVersion)}_${o.kind}`;
}
