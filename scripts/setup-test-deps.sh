#!/usr/bin/env bash
# Installs the Debian packages the integration tests need (only those missing) and builds the
# Kafka mock cluster. Idempotent; does nothing slow when everything is already present.
# docker.io and mmdebstrap are for the container tests (test/containers), which start dockerd.
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
packages=(influxdb librdkafka-dev gcc pkg-config nginx-light chromium docker.io mmdebstrap)

missing=()
for pkg in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$pkg")
  fi
done

if ((${#missing[@]} > 0)); then
  echo "setup-test-deps: installing ${missing[*]}" >&2
  if [[ $(id -u) -eq 0 ]]; then sudo=(); else sudo=(sudo); fi

  # Debian's postinst scripts start influxdb/nginx/docker through invoke-rc.d; a policy-rc.d that
  # returns 101 forbids that. Tests start their own instances on free ports instead.
  policy=/usr/sbin/policy-rc.d
  backup=""
  if [[ -e $policy ]]; then
    backup="$(mktemp)"
    "${sudo[@]}" cp -p "$policy" "$backup"
  fi
  restore_policy() {
    if [[ -n $backup ]]; then
      "${sudo[@]}" cp -p "$backup" "$policy"
      rm -f "$backup"
    else
      "${sudo[@]}" rm -f "$policy"
    fi
  }
  trap restore_policy EXIT
  printf '#!/bin/sh\nexit 101\n' | "${sudo[@]}" tee "$policy" >/dev/null
  "${sudo[@]}" chmod 755 "$policy"

  export DEBIAN_FRONTEND=noninteractive
  "${sudo[@]}" apt-get update -q
  "${sudo[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"

  restore_policy
  trap - EXIT
fi

# Make sure no system influxd/nginx holds the default ports (8086 HTTP, 8088 RPC, 80), e.g. one
# started by a postinst on a machine without a policy-rc.d guard.
stop_system_service() {
  local name=$1
  shift
  local port pids
  for port in "$@"; do
    pids=$(ss -Hltnp "sport = :$port" 2>/dev/null | grep -o "\"$name\",pid=[0-9]*" | grep -o '[0-9]*$' || true)
    for pid in $pids; do
      echo "setup-test-deps: stopping system $name (pid $pid) on port $port" >&2
      if command -v systemctl >/dev/null && [[ -d /run/systemd/system ]]; then
        systemctl stop "$name" 2>/dev/null || true
        systemctl disable "$name" 2>/dev/null || true
      fi
      kill "$pid" 2>/dev/null || true
      for _ in $(seq 50); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
      done
    done
  done
}
stop_system_service influxd 8086 8088
stop_system_service nginx 80

bash "$repo_root/test/tooling/build-kafka-mock.sh" >/dev/null
