#!/usr/bin/env bash
# System packages the tests need beyond the base image, all from Debian:
# - openssh-server: libs/git's tests fetch over a real SSH server (sshd on a free local port);
# - docker-registry (distribution 2.8) and skopeo: image automation tests push to a real registry;
# - prometheus (with promtool), haproxy, nginx and hey: the canary data plane and its metrics;
# - chromium: the console's browser tests.
# git, gpg, ssh-keygen and nats-server are already there. Test fixtures start every one of these
# on free loopback ports; the packages' own services are never started (policy-rc.d refuses them).
# Idempotent; run by setup.
set -euo pipefail
need=()
for pair in sshd:openssh-server docker-registry:docker-registry skopeo:skopeo prometheus:prometheus \
  promtool:prometheus haproxy:haproxy nginx:nginx hey:hey chromium:chromium; do
  bin=${pair%%:*} pkg=${pair#*:}
  if ! command -v "$bin" >/dev/null 2>&1 && [ ! -x "/usr/sbin/$bin" ] && [ ! -x "/usr/bin/$bin" ]; then
    need+=("$pkg")
  fi
done
[ ${#need[@]} -eq 0 ] && exit 0
sudo=""
if [ "$(id -u)" != "0" ]; then sudo="sudo"; fi
# Debian's maintainer scripts would start prometheus, nginx, haproxy and the registry on their
# default ports; the tests start their own instances, so keep the packaged ones down.
restore=""
if [ ! -e /usr/sbin/policy-rc.d ]; then
  printf '#!/bin/sh\nexit 101\n' | $sudo tee /usr/sbin/policy-rc.d >/dev/null
  $sudo chmod +x /usr/sbin/policy-rc.d
  restore=1
fi
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${need[@]}"
[ -z "$restore" ] || $sudo rm -f /usr/sbin/policy-rc.d
