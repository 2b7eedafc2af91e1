/**
 * A GitRepository following `main` every second and a Sync of the same name in `default`: the
 * pair most end-to-end tests start from. `syncSpec` adds fields to the Sync's flow-style spec
 * (for example `wait: true, timeout: 2m`).
 */
export function repositoryAndSync(name: string, url: string, path: string, syncSpec = ''): string {
  return `apiVersion: capstan.dev/v1alpha1
kind: GitRepository
metadata: {name: ${name}, namespace: default}
spec: {url: "${url}", ref: {branch: main}, interval: 1s}
---
apiVersion: capstan.dev/v1alpha1
kind: Sync
metadata: {name: ${name}, namespace: default}
spec: {sourceRef: {kind: GitRepository, name: ${name}}, path: "${path}", interval: 10m${syncSpec ? `, ${syncSpec}` : ''}}
`;
}
