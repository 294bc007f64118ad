#!/usr/bin/env bash
# Compiles kafka-mock-cluster.c against librdkafka (Debian librdkafka-dev) unless the binary is
# newer than the source, then prints the binary's path.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo_root="$(cd "$here/../.." && pwd)"
src="$here/kafka-mock-cluster.c"
out_dir="$repo_root/node_modules/.cache/page-stats"
bin="$out_dir/kafka-mock-cluster"

if [[ ! -x $bin || $src -nt $bin ]]; then
  if ! pkg-config --exists rdkafka; then
    echo "build-kafka-mock: librdkafka not found; run scripts/setup-test-deps.sh" >&2
    exit 1
  fi
  mkdir -p "$out_dir"
  # Build to a temporary name and rename, so parallel test workers never run a half-written file.
  tmp="$(mktemp "$out_dir/kafka-mock-cluster.XXXXXX")"
  trap 'rm -f "$tmp"' EXIT
  # shellcheck disable=SC2046 # pkg-config output is a list of flags
  gcc -std=c11 -O2 -Wall -Wextra -Werror -o "$tmp" "$src" \
    $(pkg-config --cflags --libs rdkafka)
  mv -f "$tmp" "$bin"
  trap - EXIT
fi

echo "$bin"
