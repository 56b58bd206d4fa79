// Starts the real Prescaler backend as a child process on a free port (backend-main.ts: main.ts's start-up on
// the suite's injected clock), with its own SQLite file and a config that has two targets and two tokens
// (docs/api.md "Configuration"): the panel applies `web`'s recommendation, the app's root page `api`'s.
import { ChildProcess, spawn } from 'child_process';
import fs from 'fs';
import net from 'net';
import path from 'path';

export const OPERATOR_TOKEN = 'e2e-operator-token-0123456789';
export const VIEWER_TOKEN = 'e2e-viewer-token-0123456789';

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

export const CONFIG_YAML = `auth:
  tokens:
    - {name: grafana, token: "${OPERATOR_TOKEN}", role: operator}
    - {name: readonly, token: "${VIEWER_TOKEN}", role: viewer}
targets:
  - name: web
    namespace: shop
    workload: {kind: Deployment, name: web}
    query: demo_cpu_usage{deployment="web"}
    capacityPerReplica: 0.5
    targetUtilization: 0.7
    minReplicas: 1
    initialReplicas: 1
    maxReplicas: 20
  - name: api
    namespace: shop
    workload: {kind: Deployment, name: api}
    query: demo_cpu_usage{deployment="api"}
    unit: cores
    capacityPerReplica: 0.5
    targetUtilization: 0.7
    minReplicas: 1
    initialReplicas: 1
    maxReplicas: 20
`;

export interface RunningBackend {
  url: string;
  output: () => string;
  stop: () => Promise<void>;
}

export async function startBackend(
  root: string,
  workDir: string,
  /** The instant the backend process lives at (Unix ms): see clock.ts. */
  nowMs: number,
  timeoutMs = 60_000
): Promise<RunningBackend> {
  const port = await freePort();
  const configPath = path.join(workDir, 'prescaler.yaml');
  fs.writeFileSync(configPath, CONFIG_YAML);
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    PORT: String(port),
    HOST: '127.0.0.1',
    PRESCALER_DB: path.join(workDir, 'prescaler.db'),
    PRESCALER_CONFIG: configPath,
    PRESCALER_ACTUATOR: 'dry-run',
    LOG_LEVEL: 'warn',
    PRESCALER_E2E_NOW_MS: String(nowMs),
  };
  // The demo source, not whatever Prometheus the developer's shell points at.
  delete env.PROMETHEUS_URL;
  delete env.PROMETHEUS_BEARER_TOKEN;
  delete env.KUBECONFIG;

  let output = '';
  // `node --import tsx` runs the TypeScript in one process, so a kill reaches the server itself.
  const child: ChildProcess = spawn(
    process.execPath,
    ['--import', 'tsx', path.join(__dirname, 'backend-main.ts')],
    {
      cwd: root,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    }
  );
  child.stdout?.on('data', (d) => (output += d));
  child.stderr?.on('data', (d) => (output += d));
  let exited: number | null = null;
  child.on('exit', (code) => (exited = code ?? -1));

  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (exited !== null) {
      throw new Error(`backend exited with ${exited} before answering /api/health:\n${output.slice(-4000)}`);
    }
    try {
      const res = await fetch(`${url}/api/health`);
      if (res.ok) {
        break;
      }
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`backend did not answer /api/health within ${timeoutMs} ms:\n${output.slice(-4000)}`);
    }
    await new Promise((r) => setTimeout(r, 250));
  }

  return {
    url,
    output: () => output,
    stop: () =>
      new Promise<void>((resolve) => {
        if (exited !== null) {
          return resolve();
        }
        const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
        child.once('exit', () => {
          clearTimeout(timer);
          resolve();
        });
        child.kill('SIGTERM');
      }),
  };
}
