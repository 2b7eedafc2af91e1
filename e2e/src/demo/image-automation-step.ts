import { run as capstan } from '@capstan/cli';
import { DockerRegistry } from '@capstan/testing';
import type { GitRepo } from '../support/git-repo.js';
import { applyYaml, type objectApi, readObject } from '../support/kube.js';
import { waitFor } from '../support/wait.js';

/**
 * Image automation in the demo: hello-web's image moves to a local registry with Flux v1
 * annotations (`semver:~1.0`); pushing 1.0.1 with skopeo becomes a commit in Git and the
 * Deployment runs it; `capstan why` tells the chain.
 */
export async function showImageAutomation(
  say: (s: string) => void,
  api: ReturnType<typeof objectApi>,
  repo: GitRepo,
  audit: { url: string; token: string },
): Promise<void> {
  const registry = await DockerRegistry.start();
  try {
    const image = `${registry.host}/example/hello-web`;
    await registry.push('example/hello-web', '1.0.0');
    say(`image automation: pushed ${image}:1.0.0 to a local registry (distribution 2.8, skopeo)`);
    const running = async () =>
      (
        await readObject<{ spec: { template: { spec: { containers: { image: string }[] } } } }>(
          api,
          'apps/v1',
          'Deployment',
          'demo',
          'hello-web',
        )
      )?.spec.template.spec.containers[0]?.image;
    await repo.write({
      'apps/hello/web/deployment.yaml': `apiVersion: apps/v1
kind: Deployment
metadata:
  name: hello-web
  namespace: demo
  labels: {app: hello-web}
  annotations:
    fluxcd.io/automated: "true"
    fluxcd.io/tag.web: semver:~1.0
spec:
  replicas: 2
  selector:
    matchLabels: {app: hello-web}
  template:
    metadata:
      labels: {app: hello-web}
    spec:
      containers:
        - name: web
          image: ${image}:1.0.0 # released by CI
          ports: [{containerPort: 8080}]
`,
    });
    repo.commit('hello-web from the local registry, automated (semver:~1.0)', {
      name: 'Demo Developer',
      email: 'dev@example.com',
    });
    await applyYaml(
      api,
      `apiVersion: capstan.dev/v1alpha1
kind: ImageRepository
metadata: {name: hello-web, namespace: demo}
spec: {image: ${image}, interval: 2s}
---
apiVersion: capstan.dev/v1alpha1
kind: ImageUpdateAutomation
metadata: {name: demo, namespace: default}
spec: {sourceRef: {name: demo}, update: {path: ./apps/hello}}
`,
    );
    await waitFor('hello-web 1.0.0 from the local registry', async () =>
      (await running()) === `${image}:1.0.0` ? true : undefined,
    );
    await waitFor('the first scan of hello-web', async () => {
      const r = await readObject<{ status?: { lastScanResult?: unknown } }>(
        api,
        'capstan.dev/v1alpha1',
        'ImageRepository',
        'demo',
        'hello-web',
      );
      return r?.status?.lastScanResult ? true : undefined;
    });
    const pushed = Date.now();
    await registry.push('example/hello-web', '1.0.1');
    say(`pushed ${image}:1.0.1; the registry-watcher commits it to Git, the reconciler applies it`);
    await waitFor(
      'hello-web 1.0.1 running',
      async () => ((await running()) === `${image}:1.0.1` ? true : undefined),
      120_000,
    );
    say(
      `Deployment demo/hello-web runs 1.0.1, ${((Date.now() - pushed) / 1000).toFixed(1)} s after the push (scan every 2 s)`,
    );
    await waitFor('the apply in the audit log', async () => {
      const res = await fetch(`${audit.url}/api/v1/decisions?action=image.updated&namespace=demo&limit=1`, {
        headers: { authorization: `Bearer ${audit.token}` },
      });
      return res.ok && ((await res.json()) as { items: unknown[] }).items.length > 0 ? true : undefined;
    });
    say('why does it run 1.0.1?  (capstan why demo/Deployment/hello-web)\n');
    await waitFor('why', async () => {
      const lines: string[] = [];
      await capstan(
        ['why', 'demo/Deployment/hello-web', '--server', audit.url],
        (s) => lines.push(s),
        (s) => lines.push(s),
        {
          CAPSTAN_TOKEN: audit.token,
        },
      );
      const text = lines.join('\n');
      if (!/applied/.test(text) || !/pushed/.test(text)) return undefined;
      process.stdout.write(`${text}\n\n`);
      return true;
    });
  } finally {
    await registry.stop();
  }
}
