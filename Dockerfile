# The Prescaler backend (and the demo workload exporter) as an image; also builds the Grafana plugin.
FROM node:20-bookworm-slim
WORKDIR /app
COPY package.json package-lock.json ./
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ && rm -rf /var/lib/apt/lists/* \
 && npm ci
COPY . .
RUN npm run -s build
ENV PORT=8080 PRESCALER_DB=/data/prescaler.db
VOLUME /data
EXPOSE 8080
CMD ["npm", "start"]
