/**
 * The real backend in process for a test: a temp dir holding its config YAML and SQLite file, port 0 on
 * loopback, silent logs. `close()` stops the server and removes the dir.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import pino from 'pino';
import { loadConfig } from '../../backend/src/config';
import { startServer, type RunningServer, type StartOptions } from '../../backend/src/server';

export interface TestServer {
  srv: RunningServer;
  /** The temp dir (config.yaml, prescaler.db); extra files may go here. */
  dir: string;
  close(): Promise<void>;
}

export async function startTestServer(
  opts: { yaml?: string; env?: Record<string, string>; dir?: string } & StartOptions = {}
): Promise<TestServer> {
  const { yaml, env = {}, dir: given, ...start } = opts;
  const dir = given ?? fs.mkdtempSync(path.join(os.tmpdir(), 'prescaler-test-'));
  const vars: Record<string, string> = {
    PORT: '0',
    HOST: '127.0.0.1',
    PRESCALER_DB: path.join(dir, 'prescaler.db'),
    LOG_LEVEL: 'silent',
  };
  if (yaml !== undefined) {
    vars.PRESCALER_CONFIG = path.join(dir, 'config.yaml');
    fs.writeFileSync(vars.PRESCALER_CONFIG, yaml);
  }
  const srv = await startServer(loadConfig({ ...vars, ...env }), {
    logger: pino({ level: 'silent' }),
    ...start,
  });
  return {
    srv,
    dir,
    close: async () => {
      await srv.close();
      if (!given) fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
