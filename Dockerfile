# The engine in a container, after the official Node-RED image's conventions: Node 22, a non-root user with uid 1000,
# one volume /data (Node-RED's user directory, the SQLite store, the VANS folders), TZ Europe/Copenhagen, a
# HEALTHCHECK. The entrypoint is `npm start`'s own launcher, run directly so that the container's stop signal reaches
# Node-RED (no npm or shell in between). test/e2e/container.test.ts runs this file's ENV and CMD for real.
#
#   docker build -t advis .
#   docker run -d -p 1880:1880 -p 2575:2575 -v advis-data:/data \
#     -e ADVIS_ADMIN_USER=admin -e ADVIS_ADMIN_PASSWORD_HASH='<bcrypt hash>' -e NODE_RED_CREDENTIAL_SECRET='<secret>' advis

FROM node:22-bookworm-slim AS build
WORKDIR /usr/src/advis
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY . .
# Node-RED is a development dependency of the node package (a palette installs nodes into a Node-RED that is already
# there); the image brings its own, the version the lockfile tests, in a folder of its own (ADVIS_NODE_RED).
RUN npm run build \
 && npm prune --omit=dev --no-audit --no-fund \
 && npm install --prefix /opt/node-red --no-audit --no-fund "node-red@$(node -p "require('./package-lock.json').packages['node_modules/node-red'].version")"

FROM node:22-bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends tzdata && rm -rf /var/lib/apt/lists/* \
 && mkdir -p /data && chown 1000:1000 /data
WORKDIR /usr/src/advis
COPY --from=build /opt/node-red /opt/node-red
COPY --from=build --chown=1000:1000 /usr/src/advis/package.json ./
COPY --from=build --chown=1000:1000 /usr/src/advis/node_modules ./node_modules
COPY --from=build --chown=1000:1000 /usr/src/advis/dist ./dist
COPY --from=build --chown=1000:1000 /usr/src/advis/lib/fhir/packages ./lib/fhir/packages
COPY --from=build --chown=1000:1000 /usr/src/advis/flows ./flows
ENV TZ=Europe/Copenhagen
ENV NODE_ENV=production
ENV ADVIS_DATA_DIR=/data
ENV ADVIS_HOST=0.0.0.0
ENV ADVIS_MLLP_HOST=0.0.0.0
ENV PORT=1880
ENV ADVIS_MLLP_PORT=2575
ENV UV_THREADPOOL_SIZE=32
ENV ADVIS_NODE_RED=/opt/node-red/node_modules/node-red
USER 1000:1000
VOLUME ["/data"]
EXPOSE 1880 2575
HEALTHCHECK --interval=30s --timeout=10s --start-period=60s --retries=3 CMD ["node", "dist/bin/healthcheck.js"]
CMD ["node", "dist/bin/start.js"]
