#!/usr/bin/env bash
# PostgreSQL and NATS JetStream come from DATABASE_URL / NATS_URL, by default the machine's own
# services on 127.0.0.1. If they are installed here but stopped, start them; if an URL points
# elsewhere, leave it alone.
set -euo pipefail
up() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
wait_up() { for _ in $(seq 1 50); do up "$1" && return 0; sleep 0.2; done; echo "[services] $2 did not come up on :$1" >&2; return 1; }

if [ -z "${DATABASE_URL:-}" ] || [[ "$DATABASE_URL" == *"127.0.0.1"* || "$DATABASE_URL" == *localhost* ]]; then
  if ! up 5432; then
    if command -v pg_ctlcluster >/dev/null && [ -d /etc/postgresql ]; then
      echo "[services] starting PostgreSQL" >&2
      pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start
      wait_up 5432 PostgreSQL
    else
      echo "[services] PostgreSQL is not running on 127.0.0.1:5432 and not installed; set DATABASE_URL" >&2; exit 1
    fi
  fi
fi
if [ -z "${NATS_URL:-}" ] || [[ "$NATS_URL" == *"127.0.0.1"* || "$NATS_URL" == *localhost* ]]; then
  if ! up 4222; then
    if [ -x /usr/sbin/nats-server ]; then
      echo "[services] starting NATS with JetStream" >&2
      mkdir -p /var/lib/nats-server
      start-stop-daemon --start --oknodo --background --exec /usr/sbin/nats-server -- \
        -a 127.0.0.1 -p 4222 -js -sd /var/lib/nats-server -l /var/log/nats-server.log
      wait_up 4222 NATS
    else
      echo "[services] NATS is not running on 127.0.0.1:4222 and not installed; set NATS_URL" >&2; exit 1
    fi
  fi
fi
