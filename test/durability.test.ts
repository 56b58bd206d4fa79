/**
 * Durability of the audit log across crashes: the real backend (`tsx backend/src/main.ts`) in a child
 * process is SIGKILLed between "decided" and "done" (held there by the PRESCALER_TEST_CRASH_AFTER_DECIDE
 * test seam); the record it leaves is `unknown`, and the next start reconciles it by reading the
 * workload (the dry-run actuator's persisted state, or the Kubernetes API double). No record is lost
 * or duplicated.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import Database from 'better-sqlite3';
import { KubernetesApiDouble } from './k8s/double';

const ROOT = path.resolve(__dirname, '..');
// `node --import tsx`, not the tsx CLI: the CLI runs the program in a second process that would
// outlive a SIGKILL sent to the first.
const NODE_ARGS = ['--import', 'tsx', path.join(ROOT, 'backend/src/main.ts')];
const OPERATOR = 'operator-token-0123456789';
const VIEWER = 'viewer-token-0123456789';

jest.setTimeout(Number(process.env.DURABILITY_TIMEOUT ?? 120_000));

interface Child {
  proc: ChildProcess;
  url: string;
  stderr: () => string;
}

let dir: string;
const children: ChildProcess[] = [];

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'prescaler-durability-'));
});

afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  fs.rmSync(dir, { recursive: true, force: true });
});

function writeConfig(): string {
  const file = path.join(dir, 'config.yaml');
  fs.writeFileSync(
    file,
    `auth:
  tokens:
    - {name: sre, token: "${OPERATOR}", role: operator}
    - {name: ro, token: "${VIEWER}", role: viewer}
evaluation: {interval: 3600}
targets:
  - name: web
    namespace: shop
    workload: {kind: Deployment, name: web}
    query: demo_cpu_usage{deployment="web"}
    capacityPerReplica: 0.5
    minReplicas: 2
    maxReplicas: 20
    initialReplicas: 4
`
  );
  return file;
}

/** Starts the backend and resolves once it listens (PORT=0: the port comes from its log line). */
function startBackend(env: Record<string, string>): Promise<Child> {
  const proc = spawn(process.execPath, NODE_ARGS, {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH ?? '',
      HOME: dir,
      PORT: '0',
      HOST: '127.0.0.1',
      PRESCALER_CONFIG: writeConfig(),
      PRESCALER_DB: path.join(dir, 'prescaler.db'),
      // No models: the loop reports "no forecaster" and leaves the store to the test.
      PRESCALER_MODELS: path.join(dir, 'no-models'),
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(proc);
  let out = '';
  let err = '';
  proc.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`backend did not start: ${out}\n${err}`)), 60_000);
    proc.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /"port":(\d+)[^\n]*"msg":"prescaler listening"/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({ proc, url: `http://127.0.0.1:${m[1]}`, stderr: () => err });
      }
    });
    proc.on('exit', (code) => reject(new Error(`backend exited ${code}: ${out}\n${err}`)));
  });
}

async function waitFor(cond: () => boolean, what: string, ms = 30_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function kill(c: Child): Promise<void> {
  const exited = new Promise((r) => c.proc.once('exit', r));
  c.proc.kill('SIGKILL');
  await exited;
}

const auth = { authorization: `Bearer ${OPERATOR}`, 'content-type': 'application/json' };

/** An emergency recommendation for web through the webhook (no model needed). */
async function recommend(c: Child, fingerprint: string): Promise<string> {
  const res = await fetch(`${c.url}/api/alerts/webhook`, {
    method: 'POST',
    headers: auth,
    body: JSON.stringify({
      version: '4',
      status: 'firing',
      alerts: [{ status: 'firing', labels: { alertname: 'HighCPU', target: 'web' }, fingerprint }],
    }),
  });
  const body = await res.json();
  expect(body.results[0].status).toBe('pending');
  return body.results[0].recommendationId;
}

/** A read: with tokens configured every /api route but health needs one (a viewer's is enough). */
const read = (c: Child, p: string) => fetch(c.url + p, { headers: { authorization: `Bearer ${VIEWER}` } });

const apply = (c: Child, id: string) =>
  fetch(`${c.url}/api/recommendations/${id}/apply`, { method: 'POST', headers: auth });

function auditRows(): Array<{
  id: number;
  outcome: string;
  reconciled: number;
  recommendation_id: string;
  to_replicas: number;
}> {
  const db = new Database(path.join(dir, 'prescaler.db'), { readonly: true });
  try {
    return db.prepare('SELECT * FROM audit ORDER BY id').all() as never;
  } finally {
    db.close();
  }
}

/** Applies with the seam set, waits until the child holds between decided and done, and kills it. */
async function crashMidApply(
  env: Record<string, string>,
  phase: 'before-act' | 'after-act',
  fingerprint: string
) {
  const c = await startBackend({
    ...env,
    PRESCALER_TEST_CRASH_AFTER_DECIDE: phase === 'before-act' ? '1' : 'after-act',
  });
  const id = await recommend(c, fingerprint);
  const pending = apply(c, id).catch(() => undefined); // never answers: the process dies first
  await waitFor(() => c.stderr().includes(`PRESCALER_TEST_SEAM holding ${phase}`), 'the test seam');
  await kill(c);
  await pending;
  return id;
}

describe('a crash between "decided" and "done"', () => {
  it('dry-run: leaves an unknown record that the next start settles; earlier records survive untouched', async () => {
    // Run 1: one ordinary apply, completed.
    const first = await startBackend({});
    const done = await recommend(first, 'fp-1');
    const ok = await apply(first, done);
    expect(ok.status).toBe(200);
    await kill(first);

    // Run 2: killed after the decision is committed, before the dry-run actuator "acts".
    const id = await crashMidApply({}, 'before-act', 'fp-2');
    const rows = auditRows();
    expect(rows.map((r) => [r.recommendation_id, r.outcome])).toEqual([
      [done, 'applied'],
      [id, 'unknown'],
    ]);

    // Run 3: start-up reconciles by reading the (persisted) dry-run state: nothing was acted.
    const third = await startBackend({});
    const { records } = await (await read(third, '/api/audit')).json();
    expect(records).toHaveLength(2);
    expect(records[0]).toMatchObject({
      recommendationId: id,
      outcome: 'failed',
      reconciled: true,
      dryRun: true,
    });
    expect(records[0].detail).toMatch(/did not take effect/);
    expect(records[1]).toMatchObject({ recommendationId: done, outcome: 'applied', reconciled: false });
    // Applying it again answers the same record and does not act.
    const again = await apply(third, id);
    expect((await again.json()).record.id).toBe(records[0].id);
    expect(auditRows()).toHaveLength(2);
    const { targets } = await (await read(third, '/api/targets')).json();
    expect(targets[0].state.replicas).toBe(6); // run 1's apply (4 → 6) persisted; run 2's never happened
    await kill(third);
  });

  describe('kubernetes', () => {
    let k8s: KubernetesApiDouble;
    let env: Record<string, string>;
    beforeEach(async () => {
      k8s = new KubernetesApiDouble();
      k8s.addWorkload('Deployment', 'shop', 'web', 4);
      await k8s.start();
      env = { PRESCALER_ACTUATOR: 'kubernetes', KUBECONFIG: k8s.writeKubeconfig(dir) };
    });
    afterEach(() => k8s.stop());

    it('after the write landed: reconciled as applied from the cluster', async () => {
      const id = await crashMidApply(env, 'after-act', 'fp-k1');
      expect(k8s.replicas('Deployment', 'shop', 'web')).toBe(6);
      expect(auditRows().map((r) => r.outcome)).toEqual(['unknown']);
      const next = await startBackend(env);
      const { records } = await (await read(next, '/api/audit')).json();
      expect(records).toEqual([
        expect.objectContaining({
          recommendationId: id,
          outcome: 'applied',
          reconciled: true,
          dryRun: false,
        }),
      ]);
      const rec = await (await read(next, `/api/recommendations/${id}`)).json();
      expect(rec.status).toBe('applied');
      expect(k8s.writes()).toHaveLength(1);
      await kill(next);
    });

    it('before the write: reconciled as failed, and the cluster was never written', async () => {
      const id = await crashMidApply(env, 'before-act', 'fp-k2');
      const next = await startBackend(env);
      const { records } = await (await read(next, '/api/audit')).json();
      expect(records).toEqual([
        expect.objectContaining({ recommendationId: id, outcome: 'failed', reconciled: true }),
      ]);
      expect(k8s.writes()).toHaveLength(0);
      expect(k8s.replicas('Deployment', 'shop', 'web')).toBe(4);
      await kill(next);
    });
  });
});
