#!/usr/bin/env bash
# System packages the tests need beyond the base image: openssh-server, so libs/git's tests can
# fetch over a real SSH server (sshd on a free local port, started and stopped by the test).
# git, gpg and ssh-keygen (openssh-client) are already there. Idempotent; run by setup.
set -euo pipefail
if [ -x /usr/sbin/sshd ]; then exit 0; fi
sudo=""
if [ "$(id -u)" != "0" ]; then sudo="sudo"; fi
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends openssh-server
