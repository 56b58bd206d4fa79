/**
 * Replicas on one PostgreSQL: three real backend processes (`node --import tsx backend/src/main.ts`)
 * with the Kubernetes actuator on the API double. Exactly one leads; every one serves reads and
 * applies; concurrent applies of one recommendation through all three patch the cluster once; the
 * leader SIGKILLed, another leads within the lease; an apply whose replica died mid-way is reconciled
 * from the cluster by the new leader; every replica answers the same audit, with nothing lost or
 * duplicated. The same three electing through a Kubernetes Lease on the double: after a SIGKILL the Lease
 * changes hands once it has gone unrenewed for its duration. A second process on one SQLite file
 * refuses to start.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { startPostgres, type RunningPostgres } from './helpers/postgres';
import { KubernetesApiDouble } from './k8s/double';

const ROOT = path.resolve(__dirname, '..');
// `node --import tsx`, not the tsx CLI, so a SIGKILL reaches the backend itself (durability.test.ts).
const NODE_ARGS = ['--import', 'tsx', path.join(ROOT, 'backend/src/main.ts')];
const OPERATOR = 'operator-token-0123456789';
const VIEWER = 'viewer-token-0123456789';
/** Short election durations keep the test quick; the ratios are client-go's (15 / 10 / 2). */
const LEASE = 6;
const ELECTION = {
  PRESCALER_LEASE_DURATION: `${LEASE}s`,
  PRESCALER_RENEW_DEADLINE: '4s',
  PRESCALER_RETRY_PERIOD: '1s',
};

jest.setTimeout(180_000);

interface Replica {
  name: string;
  proc: ChildProcess;
  url: string;
  stderr: () => string;
}

let dir: string;
let pg: RunningPostgres;
let k8s: KubernetesApiDouble;
const children: ChildProcess[] = [];

beforeAll(async () => {
  pg = await startPostgres();
}, 60_000);
afterAll(() => pg?.stop());

beforeEach(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'prescaler-failover-'));
  k8s = new KubernetesApiDouble();
  k8s.addWorkload('Deployment', 'shop', 'web', 4);
  await k8s.start();
});

afterEach(async () => {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  await k8s.stop();
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
evaluation: {interval: 1}
targets:
  - name: web
    namespace: shop
    workload: {kind: Deployment, name: web}
    query: demo_cpu_usage{deployment="web"}
    capacityPerReplica: 0.5
    minReplicas: 2
    maxReplicas: 20
`
  );
  return file;
}

/** Starts a backend and resolves once it listens (PORT=0: the port comes from its log line). */
function startReplica(name: string, env: Record<string, string>): Promise<Replica> {
  const proc = spawn(process.execPath, NODE_ARGS, {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH ?? '',
      HOME: dir,
      PORT: '0',
      HOST: '127.0.0.1',
      POD_NAME: name,
      PRESCALER_CONFIG: writeConfig(),
      // No models: the loop reports "no forecaster" and leaves recommendations to the webhook.
      PRESCALER_MODELS: path.join(dir, 'no-models'),
      PRESCALER_ACTUATOR: 'kubernetes',
      KUBECONFIG: k8s.writeKubeconfig(dir),
      ...ELECTION,
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(proc);
  let out = '';
  let err = '';
  proc.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${name} did not start: ${out}\n${err}`)), 60_000);
    proc.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /"port":(\d+)[^\n]*"msg":"prescaler listening"/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({ name, proc, url: `http://127.0.0.1:${m[1]}`, stderr: () => err });
      }
    });
    proc.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited ${code}: ${out}\n${err}`));
    });
  });
}

async function waitFor<T>(probe: () => Promise<T | undefined>, what: string, ms = 30_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function kill(r: Replica): Promise<void> {
  const exited = new Promise((res) => r.proc.once('exit', res));
  r.proc.kill('SIGKILL');
  await exited;
}

const auth = { authorization: `Bearer ${OPERATOR}`, 'content-type': 'application/json' };
const read = async (r: Replica, p: string) =>
  (await fetch(r.url + p, { headers: { authorization: `Bearer ${VIEWER}` } })).json();
const health = async (r: Replica) => (await fetch(r.url + '/api/health')).json();
const leaderGauge = async (r: Replica) =>
  Number(/^prescaler_leader (\d+)$/m.exec(await (await fetch(r.url + '/metrics')).text())?.[1]);
const apply = (r: Replica, id: string) =>
  fetch(`${r.url}/api/recommendations/${id}/apply`, { method: 'POST', headers: auth });

/** The same alert occurrence delivered to a replica; answers its result. */
async function alert(r: Replica, fingerprint: string) {
  const res = await fetch(`${r.url}/api/alerts/webhook`, {
    method: 'POST',
    headers: auth,
    body: JSON.stringify({
      version: '4',
      status: 'firing',
      alerts: [
        {
          status: 'firing',
          labels: { alertname: 'HighCPU', target: 'web' },
          fingerprint,
          startsAt: '2026-12-07T03:00:00Z',
        },
      ],
    }),
  });
  return (await res.json()).results[0];
}

/** Waits until every replica given names one leader among them; answers it. */
async function oneLeader(replicas: Replica[], ms = 30_000): Promise<Replica> {
  return waitFor(
    async () => {
      const hs = await Promise.all(replicas.map(health));
      const leaders = replicas.filter((_, i) => hs[i].role === 'leader');
      if (leaders.length !== 1) return undefined;
      if (!hs.every((h) => h.leader === hs[replicas.indexOf(leaders[0])].identity)) return undefined;
      return leaders[0];
    },
    'exactly one leader named by every replica',
    ms
  );
}

describe('three replicas on one PostgreSQL', () => {
  it('elect one leader, apply once through all three, fail over within the lease, lose nothing', async () => {
    const db = await pg.createDatabase();
    const replicas = await Promise.all(
      ['replica-a', 'replica-b', 'replica-c'].map((n) => startReplica(n, { PRESCALER_DB: db }))
    );
    const leader = await oneLeader(replicas);
    expect((await Promise.all(replicas.map(leaderGauge))).sort()).toEqual([0, 0, 1]);
    const followers = replicas.filter((r) => r !== leader);
    for (const f of followers)
      expect(await health(f)).toMatchObject({
        role: 'follower',
        leader: leader.name + '_' + leader.proc.pid,
      });

    // One alert occurrence delivered to all three at once: the store claims it once.
    const raised = await Promise.all(replicas.map((r) => alert(r, 'fp-1')));
    expect(raised.map((x) => x.status).sort()).toEqual(['duplicate', 'duplicate', 'pending']);
    const id = raised.find((x) => x.status === 'pending').recommendationId as string;

    // Applies of that recommendation through every replica at once: one patch, one audit record.
    const answers = await Promise.all(replicas.flatMap((r) => [apply(r, id), apply(r, id)]));
    const bodies = await Promise.all(answers.map((a) => a.json()));
    expect(answers.some((a) => a.status === 200)).toBe(true);
    for (const [i, a] of answers.entries()) {
      if (a.status === 200) expect(bodies[i].record ?? bodies[i]).toMatchObject({ outcome: 'applied' });
      else expect(bodies[i].error.message).toMatch(/not known yet|applied/);
    }
    expect(k8s.writes()).toHaveLength(1);
    expect(k8s.replicas('Deployment', 'shop', 'web')).toBe(6);
    const audits = await Promise.all(replicas.map((r) => read(r, '/api/audit')));
    expect(audits[0].records).toHaveLength(1);
    expect(audits[0].records[0]).toMatchObject({ recommendationId: id, outcome: 'applied' });
    for (const a of audits) expect(a).toEqual(audits[0]);

    // The leader dies without a word; one of the two others leads within the lease.
    const killedAt = Date.now();
    await kill(leader);
    const next = await oneLeader(followers, LEASE * 1000);
    const tookMs = Date.now() - killedAt;
    expect(tookMs).toBeLessThan(LEASE * 1000);
    expect(await leaderGauge(next)).toBe(1);

    // Nothing lost or duplicated: the survivors answer what all three answered before.
    for (const f of followers) {
      expect(await read(f, '/api/audit')).toEqual(audits[0]);
      const recs = (await read(f, '/api/recommendations')).recommendations;
      expect(recs.map((r: { id: string; status: string }) => [r.id, r.status])).toEqual([[id, 'applied']]);
    }
    process.stderr.write(`failover: new leader ${next.name} ${tookMs} ms after the SIGKILL\n`);
  });

  it('settles an apply whose replica was SIGKILLed mid-way from the cluster, through the new leader', async () => {
    const db = await pg.createDatabase();
    const env = { PRESCALER_DB: db, PRESCALER_RECONCILE_AFTER: '2s' };
    const [a, b] = await Promise.all([startReplica('replica-a', env), startReplica('replica-b', env)]);
    const leader = await oneLeader([a, b]);
    const other = leader === a ? b : a;
    // A third replica whose applies stop after the patch landed, before the outcome is written.
    const stuck = await startReplica('replica-stuck', {
      ...env,
      PRESCALER_TEST_CRASH_AFTER_DECIDE: 'after-act',
    });
    const { recommendationId: id } = await alert(other, 'fp-2');
    void apply(stuck, id).catch(() => undefined);
    await waitFor(
      async () => (stuck.stderr().includes('PRESCALER_TEST_SEAM holding after-act') ? true : undefined),
      'the stuck apply'
    );
    expect(k8s.writes()).toHaveLength(1);
    // Meanwhile the other replicas call it in flight, and nobody patches again.
    const early = await apply(other, id);
    expect(early.status).toBe(409);
    expect((await early.json()).error.message).toMatch(/not known yet/);
    await kill(stuck);
    // Kill the leader too: the survivor leads and reconciles the record from the cluster.
    await kill(leader);
    await oneLeader([other], LEASE * 1000);
    const records = await waitFor(async () => {
      const r = (await read(other, '/api/audit')).records;
      return r[0]?.outcome === 'applied' ? r : undefined;
    }, 'the reconciled record');
    expect(records).toEqual([
      expect.objectContaining({ recommendationId: id, outcome: 'applied', reconciled: true }),
    ]);
    expect(k8s.writes()).toHaveLength(1);
    expect((await read(other, `/api/recommendations/${id}`)).status).toBe('applied');
  });
});

describe('three replicas electing through a Kubernetes Lease', () => {
  it('elect one leader; after a SIGKILL another takes the Lease once it has gone unrenewed for its duration', async () => {
    const env = {
      PRESCALER_DB: await pg.createDatabase(),
      PRESCALER_LEADER_ELECTION: 'kubernetes',
      POD_NAMESPACE: 'prescaler',
    };
    const replicas = await Promise.all(['lease-a', 'lease-b', 'lease-c'].map((n) => startReplica(n, env)));
    const leader = await oneLeader(replicas);
    expect((await Promise.all(replicas.map(leaderGauge))).sort()).toEqual([0, 0, 1]);
    const lease = () =>
      k8s.lease('prescaler', 'prescaler-leader')?.spec as {
        holderIdentity: string;
        leaseTransitions: number;
      };
    expect(lease().holderIdentity).toBe((await health(leader)).identity);
    const killedAt = Date.now();
    await kill(leader);
    const followers = replicas.filter((r) => r !== leader);
    // client-go's bound: the lease's duration after the last renewal, plus a retry period.
    const next = await oneLeader(followers, (LEASE + 2) * 1000);
    expect(Date.now() - killedAt).toBeLessThan((LEASE + 2) * 1000);
    expect(lease()).toMatchObject({ holderIdentity: (await health(next)).identity, leaseTransitions: 1 });
  });
});

describe('SQLite', () => {
  it('refuses a second process on the same file, naming the way to run several', async () => {
    const db = path.join(dir, 'prescaler.db');
    const first = await startReplica('only', { PRESCALER_DB: db });
    const second = startReplica('second', { PRESCALER_DB: db });
    await expect(second).rejects.toThrow(/exited 1/);
    await expect(second).rejects.toThrow(
      /prescaler: .*prescaler\.db is in use by another Prescaler process .* PRESCALER_DB=postgres:\/\//
    );
    expect(await health(first)).toMatchObject({ role: 'leader', leader: expect.stringMatching(/^only_/) });
    await kill(first);
    // The operating system released the lock with the process: a restart takes over the file.
    const again = await startReplica('again', { PRESCALER_DB: db });
    expect((await health(again)).role).toBe('leader');
  });
});
