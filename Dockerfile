# The Prescaler backend (and the demo workload exporter) as an image; also builds the Grafana plugin.
FROM node:20-bookworm-slim
WORKDIR /app
COPY package.json package-lock.json ./
# The e2e suite's Grafana 13 package set is an npm workspace: npm ci needs its package.json too.
COPY test/e2e/grafana-13/package.json test/e2e/grafana-13/
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ && rm -rf /var/lib/apt/lists/* \
 && npm ci
COPY . .
RUN npm run -s build
ENV PORT=8080 PRESCALER_DB=/data/prescaler.db
VOLUME /data
EXPOSE 8080
CMD ["npm", "start"]
