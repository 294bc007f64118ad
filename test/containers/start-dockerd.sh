#!/usr/bin/env bash
# Makes sure a Docker daemon answers: uses the running one, else starts Debian's dockerd (package
# docker.io, installed by scripts/setup-test-deps.sh) without a bridge network and without
# iptables rules; containers of the tests run with --network host on loopback ports. The daemon
# keeps running after the tests, with its images as the build cache.
#
# A daemon that was killed (a machine stopped mid-run) leaves its pid files, sockets and possibly
# an orphaned or frozen containerd behind; the next dockerd then refuses to start ("pid file
# found") or waits forever for its containerd. So a daemon that does not answer is cleared away
# first, and a start that does not answer in time is cleared and tried again.
set -euo pipefail

if [[ -z ${DOCKER:-} ]]; then
  if [[ -x /usr/bin/docker ]]; then DOCKER=/usr/bin/docker; else DOCKER=docker; fi
fi
answers() { timeout 10 "$DOCKER" info >/dev/null 2>&1; }
if answers; then exit 0; fi

command -v dockerd >/dev/null || { echo "start-dockerd: dockerd is missing: run scripts/setup-test-deps.sh (Debian docker.io)" >&2; exit 1; }
[[ $(id -u) -eq 0 ]] || { echo "start-dockerd: dockerd must be started as root" >&2; exit 1; }
log=/var/log/page-stats-dockerd.log

# Stops every dockerd and the containerd it runs, then removes what they leave behind.
clear_stale() {
  pkill -KILL -x dockerd 2>/dev/null || true
  pkill -KILL -f '^containerd --config /var/run/docker/containerd/' 2>/dev/null || true
  for _ in $(seq 20); do
    pgrep -x dockerd >/dev/null || pgrep -f '^containerd --config /var/run/docker/containerd/' >/dev/null || break
    sleep 0.25
  done
  rm -f /var/run/docker.pid /var/run/docker.sock
  rm -rf /var/run/docker/containerd
}

for attempt in 1 2 3; do
  clear_stale
  echo "start-dockerd: starting dockerd, attempt $attempt (log: $log)" >&2
  setsid dockerd --bridge=none --iptables=false --ip6tables=false >>"$log" 2>&1 </dev/null &
  for _ in $(seq 90); do
    if answers; then exit 0; fi
    sleep 1
  done
  echo "start-dockerd: dockerd did not answer within 90 s; last lines of $log:" >&2
  tail -n 20 "$log" >&2
done
clear_stale
exit 1
