/** `npm start`: the Prescaler backend. Exits with a clear message when the configuration is wrong. */
import pino from 'pino';
import { ConfigError, loadConfig } from './config';
import { startServer } from './server';
import { StoreInUseError } from './store/sqlite';

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (e) {
    if (e instanceof ConfigError) {
      process.stderr.write(`prescaler: configuration error: ${e.message}\n`);
      process.exit(2);
    }
    throw e;
  }
  const logger = pino({ level: config.logLevel });
  for (const warning of config.warnings) logger.warn(warning);
  const running = await startServer(config, { logger });
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    running.close().then(() => process.exit(0));
    setTimeout(() => process.exit(0), 5000).unref();
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

main().catch((e) => {
  // Another process owns the SQLite file: the message says what to do; a stack would only bury it.
  if (e instanceof StoreInUseError) process.stderr.write(`prescaler: ${e.message}\n`);
  else process.stderr.write(`prescaler: failed to start: ${(e as Error).stack ?? e}\n`);
  process.exit(1);
});
