// YAML as people write it in Flux v1 and Flux v2 repositories; the specs read and rewrite these.

export const FLUX_V1_HELMRELEASE = `# podinfo, released by the workshop's Flux v1 setup
apiVersion: helm.fluxcd.io/v1
kind: HelmRelease
metadata:
  name: podinfo
  namespace: prod
  annotations:
    fluxcd.io/automated: "true"
    fluxcd.io/tag.chart-image: semver:~3.0
spec:
  releaseName: podinfo
  chart:
    git: https://git.example.com/fleet.git
    path: charts/podinfo
  values:
    image:
      repository: stefanprodan/podinfo   # the app image
      tag: 3.0.0
    replicaCount: 2
`;

export const FLUX_V1_DEPLOYMENT = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: shop
  annotations:
    flux.weave.works/automated: "true"
    flux.weave.works/tag.web: glob:1.*
    filter.fluxcd.io/sidecar: 'regexp:^v\\d+$'
spec:
  template:
    spec:
      initContainers:
        - name: migrate
          image: "ghcr.io/acme/migrate:7"
      containers:
        - name: web
          image: ghcr.io/acme/web:1.2   # keep this comment
        - name: sidecar
          image: 'nginx:v1'
`;

export const LOCKED_DEPLOYMENT = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: api
  namespace: shop
  annotations:
    fluxcd.io/automated: "true"
    fluxcd.io/locked: "true"
    fluxcd.io/locked_user: Ada <ada@example.com>
    fluxcd.io/locked_msg: incident 42
    fluxcd.io/tag_all: semver:^2
spec:
  template:
    spec:
      containers:
        - name: api
          image: registry.example.com:5000/acme/api:2.0.0
`;

export const HELM_SHAPES = `apiVersion: helm.fluxcd.io/v1
kind: HelmRelease
metadata:
  name: shapes
  namespace: demo
  annotations:
    fluxcd.io/automated: "true"
    repository.fluxcd.io/worker: workers.main.repo
    tag.fluxcd.io/worker: workers.main.version
    registry.fluxcd.io/worker: workers.main.host
spec:
  values:
    image: quay.io/acme/app:1.0.0
    cache:
      image: redis
      tag: "6.0"
    db:
      registry: docker.io
      image: bitnami/postgresql
      tag: 11.5.0
    proxy:
      image:
        registry: ghcr.io
        repository: acme/proxy
        tag: v2.1.0
    workers:
      main:
        host: ghcr.io
        repo: acme/worker
        version: 0.1.0
`;

export const SETTERS = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: podinfo
  namespace: apps
spec:
  template:
    spec:
      containers:
        - name: podinfo
          image: ghcr.io/stefanprodan/podinfo:5.0.0 # {"$imagepolicy": "flux-system:podinfo"}
---
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: podinfo
  namespace: apps
spec:
  values:
    image:
      repository: ghcr.io/stefanprodan/podinfo # {"$imagepolicy": "flux-system:podinfo:name"}
      tag: '5.0.0' # {"$imagepolicy": "flux-system:podinfo:tag"}
      digest: sha256:0000000000000000000000000000000000000000000000000000000000000000 # {"$imagepolicy": "flux-system:podinfo:digest"}
`;
