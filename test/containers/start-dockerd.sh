#!/usr/bin/env bash
# Makes sure a Docker daemon answers: uses the running one, else starts Debian's dockerd (package
# docker.io, installed by scripts/setup-test-deps.sh) without a bridge network and without
# iptables rules; containers of the tests run with --network host on loopback ports. The daemon
# keeps running after the tests, with its images as the build cache.
set -euo pipefail

if [[ -z ${DOCKER:-} ]]; then
  if [[ -x /usr/bin/docker ]]; then DOCKER=/usr/bin/docker; else DOCKER=docker; fi
fi
if "$DOCKER" info >/dev/null 2>&1; then exit 0; fi

command -v dockerd >/dev/null || { echo "start-dockerd: dockerd is missing: run scripts/setup-test-deps.sh (Debian docker.io)" >&2; exit 1; }
[[ $(id -u) -eq 0 ]] || { echo "start-dockerd: dockerd must be started as root" >&2; exit 1; }
log=/var/log/page-stats-dockerd.log
echo "start-dockerd: starting dockerd (log: $log)" >&2
setsid dockerd --bridge=none --iptables=false --ip6tables=false >>"$log" 2>&1 </dev/null &
for _ in $(seq 120); do
  if "$DOCKER" info >/dev/null 2>&1; then exit 0; fi
  sleep 0.5
done
echo "start-dockerd: dockerd did not answer within 60 s; last lines of $log:" >&2
tail -n 20 "$log" >&2
exit 1
