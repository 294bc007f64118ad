# One image for every role: `docker run page-stats <command>` with start (default), ingest,
# processing, consolidate or migrate. It also carries ui/nginx.conf, the template nginx uses.
# Build with BuildKit (DOCKER_BUILDKIT=1; Docker 23+ uses it by default). No `# syntax=` line: its
# frontend image would have to be pulled, and the built-in frontend knows RUN --mount.
#
# NODE_IMAGE is the base of both stages: the official Node.js 24 image by default;
# deploy/docker/build-local.sh passes one it built from Debian packages where no registry is reachable.
# npm settings for a private registry or proxy (optional): pass them as secrets, never as layers,
#   --secret id=npmrc,src=$HOME/.npmrc [--secret id=npm_ca,src=ca.pem  with cafile=/run/secrets/npm_ca in it]

ARG NODE_IMAGE=node:24-bookworm-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /app
# Dependencies first, so a source change does not reinstall them. --ignore-scripts skips our
# `prepare` (the build), which needs the sources; no dependency has an install script.
COPY package.json package-lock.json ./
RUN --mount=type=cache,target=/root/.npm --mount=type=secret,id=npmrc,target=/root/.npmrc --mount=type=secret,id=npm_ca \
    npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json ./
COPY src ./src
COPY ui ./ui
# Server (tsc), tracker (esbuild, with its size budget) and dashboard (vite) into dist/.
RUN npm run build

FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production \
    PORT=8080 \
    HOST=0.0.0.0 \
    DATA_DIR=/data
WORKDIR /app
COPY package.json package-lock.json ./
# Production dependencies only; nothing to build (dist/ comes from the build stage).
RUN --mount=type=cache,target=/root/.npm --mount=type=secret,id=npmrc,target=/root/.npmrc --mount=type=secret,id=npm_ca \
    npm ci --omit=dev --ignore-scripts --no-audit --no-fund
COPY --from=build /app/dist ./dist
COPY ui/nginx.conf ./ui/nginx.conf
# DATA_DIR is only used by `start` (embedded mode); mount a volume there to keep its data.
RUN mkdir -p /data && chown node:node /data

# The node image's unprivileged user (uid 1000).
USER node
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||8080)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
ENTRYPOINT ["node", "dist/runtime/cli.js"]
CMD ["start"]
