# syntax=docker/dockerfile:1
#
# One image per Capstan service, chosen with the SERVICE build argument:
#
#   docker build --build-arg SERVICE=reconciler -t ghcr.io/capstan/capstan-reconciler:0.1.0 .
#
# SERVICE is one of git-watcher, registry-watcher, reconciler, canary-analyzer, audit.
# The audit image also carries the database migrations, run by the Helm chart's hook Job as
# `node libs/db/dist/migrate-cli.js deploy`.

ARG NODE_VERSION=24.21.0

# ---- manifests: package.json of the root and of every workspace (the globs of the root
# package.json "workspaces"), at their paths. npm ci needs all of them; copying only them
# keeps the npm ci layer cached until a manifest or the lockfile changes.
FROM node:${NODE_VERSION}-slim AS manifests
WORKDIR /src
COPY . .
RUN set -eu; \
    mkdir -p /manifests; \
    cp package.json package-lock.json /manifests/; \
    for f in libs/*/package.json services/*/package.json packages/*/package.json e2e/package.json bench/package.json; do \
      if [ -f "$f" ]; then mkdir -p "/manifests/$(dirname "$f")"; cp "$f" "/manifests/$f"; fi; \
    done

# ---- deps: the workspace's dependencies ----
FROM node:${NODE_VERSION}-slim AS deps
WORKDIR /app
COPY --from=manifests /manifests/ ./
RUN --mount=type=cache,target=/root/.npm \
    npm ci --no-audit --no-fund

# ---- build: compile every project (tsc -b), like `npm run build` on a workstation ----
FROM deps AS build
COPY tsconfig.base.json tsconfig.build.json ./
COPY scripts/ scripts/
COPY libs/ libs/
COPY services/ services/
COPY packages/ packages/
COPY e2e/ e2e/
COPY bench/ bench/
# The Prisma client is generated code (git-ignored): generate it before tsc compiles libs/db.
RUN bash libs/db/scripts/generate.sh
RUN npm run build

# ---- assemble: only what SERVICE needs at run time ----
FROM build AS assemble
ARG SERVICE
RUN case "$SERVICE" in \
      git-watcher|registry-watcher|reconciler|canary-analyzer|audit) ;; \
      *) echo "build arg SERVICE must be one of git-watcher, registry-watcher, reconciler, canary-analyzer, audit (got '$SERVICE')" >&2; exit 1 ;; \
    esac \
 && test -f "services/$SERVICE/dist/main.js"
RUN --mount=type=cache,target=/root/.npm \
    npm prune --omit=dev --no-audit --no-fund
# Copies the root manifest and node_modules, each library (but the test kit) and the service (manifest, dist,
# the audit service's console-app page and modules,
# own node_modules), and the db library's prisma/ folder (migrations) for migrate-cli.
RUN set -eu; \
    mkdir -p /out; \
    cp -a package.json node_modules /out/; \
    for dir in libs/* "services/$SERVICE"; do \
      if [ "$dir" = libs/testing ]; then continue; fi; \
      mkdir -p "/out/$dir"; \
      cp -a "$dir/package.json" "$dir/dist" "/out/$dir/"; \
      if [ -d "$dir/node_modules" ]; then cp -a "$dir/node_modules" "/out/$dir/"; fi; \
    done; \
    if [ -d libs/db/prisma ]; then cp -a libs/db/prisma /out/libs/db/; fi; \
    if [ -d "services/$SERVICE/console-app" ]; then \
      mkdir -p "/out/services/$SERVICE/console-app"; \
      cp -a "services/$SERVICE/console-app/public" "services/$SERVICE/console-app/dist" "/out/services/$SERVICE/console-app/"; \
    fi; \
    find /out/libs /out/services \( -name '*.spec.js' -o -name '*.spec.js.map' -o -name '*.spec.d.ts' \
      -o -name '*.spec.d.ts.map' -o -name '.tsbuildinfo' \) -delete

# ---- runtime ----
FROM node:${NODE_VERSION}-slim AS runtime
ARG SERVICE
# git (and ssh for scp-like and ssh:// remotes) for the services that clone repositories.
RUN case "$SERVICE" in \
      git-watcher|reconciler) \
        apt-get update \
        && apt-get install -y --no-install-recommends git openssh-client ca-certificates \
        && rm -rf /var/lib/apt/lists/* ;; \
    esac
ENV NODE_ENV=production \
    NODE_OPTIONS=--enable-source-maps \
    SERVICE=${SERVICE} \
    SERVICE_NAME=${SERVICE} \
    HTTP_PORT=8080
WORKDIR /app
COPY --from=assemble /out/ /app/
LABEL org.opencontainers.image.title="capstan-${SERVICE}" \
      org.opencontainers.image.description="Capstan ${SERVICE} service" \
      org.opencontainers.image.licenses="Apache-2.0"
# The node user of the base image (uid/gid 1000); numeric so runAsNonRoot can verify it.
USER 1000:1000
EXPOSE 8080
# exec so node is PID 1 and receives SIGTERM directly.
CMD ["sh", "-c", "exec node \"services/${SERVICE}/dist/main.js\""]
