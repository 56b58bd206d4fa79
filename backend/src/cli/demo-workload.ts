/**
 * The demo stack's workload: a tiny exporter that serves, at `/metrics`, the CPU (cores) and memory of
 * the demo deployments as they are *now* — the same deterministic load model as the backend's built-in
 * demo source (daily cycle, bursts, anomalies), so Prometheus scrapes what Prescaler forecasts.
 * `PORT` (default 9100), `DEMO_SEED`.
 */
import * as http from 'node:http';
import { DEMO_METRICS, DemoSource } from '../sources/demo';

const port = Number(process.env.PORT ?? 9100);
const demo = new DemoSource({ seed: process.env.DEMO_SEED ? Number(process.env.DEMO_SEED) : undefined });

const HELP: Record<string, string> = {
  demo_cpu_usage: 'CPU used by the demo deployment, in cores.',
  demo_memory_usage: 'Memory used by the demo deployment, in bytes.',
};

function exposition(t: number): string {
  const lines: string[] = [];
  for (const metric of DEMO_METRICS) {
    lines.push(`# HELP ${metric} ${HELP[metric]}`, `# TYPE ${metric} gauge`);
    for (const { deployment, namespace } of DemoSource.deployments()) {
      const v = demo.valueAt(metric, deployment, t);
      lines.push(`${metric}{deployment="${deployment}",namespace="${namespace}"} ${v}`);
    }
  }
  return lines.join('\n') + '\n';
}

http
  .createServer((req, res) => {
    if (req.url === '/metrics') {
      res.writeHead(200, { 'Content-Type': 'text/plain; version=0.0.4' });
      res.end(exposition(Date.now() / 1000));
    } else if (req.url === '/healthz') {
      res.end('ok\n');
    } else {
      res.writeHead(404).end();
    }
  })
  .listen(port, () => process.stderr.write(`demo workload exporter on :${port}/metrics\n`));
