// The backend as the e2e suite runs it: backend/src/main.ts's start-up (config from the environment, dry-run
// actuator) with the whole process on an injected clock (PRESCALER_E2E_NOW_MS) and the demo source carrying the
// suite's anomaly (scenario.ts), so what the tests see does not depend on the day they run.
import pino from 'pino';

import { ConfigError, loadConfig } from '../../../backend/src/config';
import { startServer } from '../../../backend/src/server';
import { DemoSource } from '../../../backend/src/sources/demo';
import { installFixedClock } from './clock';
import { scenarioAnomalies } from './scenario';

async function main(): Promise<void> {
  const nowMs = Number(process.env.PRESCALER_E2E_NOW_MS);
  installFixedClock(nowMs);
  const now = () => nowMs / 1000;
  let config;
  try {
    config = loadConfig();
  } catch (e) {
    if (e instanceof ConfigError) {
      process.stderr.write(`prescaler (e2e): configuration error: ${e.message}\n`);
      process.exit(2);
    }
    throw e;
  }
  const logger = pino({ level: config.logLevel });
  const source = new DemoSource({
    now,
    maxPointsPerSeries: config.limits.maxPointsPerSeries,
    anomalies: scenarioAnomalies(now()),
  });
  const running = await startServer(config, { logger, source, loopNow: now });
  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    running.close().then(() => process.exit(0));
    setTimeout(() => process.exit(0), 5000).unref();
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

main().catch((e) => {
  process.stderr.write(`prescaler (e2e): failed to start: ${(e as Error).stack ?? e}\n`);
  process.exit(1);
});
