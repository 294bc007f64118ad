#!/usr/bin/env bash
# Builds the image of the smoke test's services (test/containers/services.Dockerfile) on the
# Debian image of deploy/docker/build-local.sh and prints its tag, page-stats:test-services-<key>.
# Reused while its inputs are unchanged; older ones are removed.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/../.."
if [[ -z ${DOCKER:-} ]]; then
  if [[ -x /usr/bin/docker ]]; then DOCKER=/usr/bin/docker; else DOCKER=docker; fi
fi
export DOCKER_BUILDKIT=1

# DEBIAN_IMAGE: the Debian image when the caller built it already
debian_image=${DEBIAN_IMAGE:-$(bash deploy/docker/build-local.sh debian)}
key=$({ "$DOCKER" image inspect -f '{{.Id}}' "$debian_image"; cat test/containers/services.Dockerfile test/tooling/kafka-mock-cluster.c; } | sha256sum | cut -c1-16)
image=page-stats:test-services-$key
if "$DOCKER" image inspect "$image" >/dev/null 2>&1; then
  echo "build-services-image: reusing $image" >&2
else
  echo "build-services-image: building $image" >&2
  "$DOCKER" build --quiet --network host -f test/containers/services.Dockerfile \
    --build-arg "DEBIAN_IMAGE=$debian_image" -t "$image" test/tooling >/dev/null
  for tag in $("$DOCKER" image ls --format '{{.Repository}}:{{.Tag}}' page-stats | grep '^page-stats:test-services-' || true); do
    [[ $tag == "$image" ]] || "$DOCKER" image rm "$tag" >/dev/null 2>&1 || true
  done
fi
echo "$image"
