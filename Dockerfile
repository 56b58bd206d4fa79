# Prescaler's images, from one build stage:
#   runtime (the default, last stage): the backend compiled to JavaScript on Node 24 LTS slim, production
#     dependencies only, as user `node`; runs with a read-only root file system (writes only /data and /tmp).
#   plugin: the built Grafana app plugin; run, it copies itself into /plugins/prescaler-autoscaling-app
#     (docker-compose.yml gives Grafana that volume), so the demo stack needs nothing on the host but Docker.
# Builds with BuildKit or the classic builder: `docker build -t prescaler .`,
# `docker build --target plugin -t prescaler-plugin .`. Where no registry can be pulled from,
# scripts/build-base-image.sh makes the base image locally under the same name.
ARG NODE_IMAGE=node:24-bookworm-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /src
# better-sqlite3 compiles where no prebuilt binary fits, against this Node's own headers (node-gyp need not
# download them).
ENV npm_config_nodedir=/usr/local npm_config_audit=false npm_config_fund=false npm_config_update_notifier=false
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
# The e2e suite's Grafana 13 package set is an npm workspace: npm ci needs its package.json too.
COPY test/e2e/grafana-13/package.json test/e2e/grafana-13/
RUN npm ci
COPY . .
RUN npm run -s build \
 && npm prune --omit=dev \
 && rm -f node_modules/prescaler-e2e-grafana-13

FROM ${NODE_IMAGE} AS plugin
COPY --from=build /src/dist /plugin/prescaler-autoscaling-app
# Replaces what a volume at /plugins/prescaler-autoscaling-app (or at /plugins) held with this build's plugin.
CMD ["sh", "-c", "mkdir -p /plugins/prescaler-autoscaling-app && find /plugins/prescaler-autoscaling-app -mindepth 1 -delete && cp -R /plugin/prescaler-autoscaling-app/. /plugins/prescaler-autoscaling-app/ && echo 'plugin copied to /plugins/prescaler-autoscaling-app'"]

FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production PORT=8080 PRESCALER_DB=/data/prescaler.db
WORKDIR /app
COPY --from=build /src/package.json ./
COPY --from=build /src/node_modules ./node_modules
COPY --from=build /src/build/backend ./build/backend
COPY --from=build /src/models ./models
RUN mkdir -p /data && chown node:node /data
USER node
VOLUME /data
EXPOSE 8080
# Liveness (the process serves): an unreachable Prometheus makes /readyz fail, not the container unhealthy.
HEALTHCHECK --interval=30s --timeout=5s --start-period=120s --retries=3 \
  CMD ["node", "-e", "fetch(`http://127.0.0.1:${process.env.PORT}/livez`).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
CMD ["node", "--enable-source-maps", "build/backend/main.js"]
