/**
 * The Lease election (backend/src/leader-lease.ts) with the real @kubernetes/client-node against the
 * API double's coordination.k8s.io/v1 leases, on clocks the test moves: create, renew, respect another
 * holder, lose on conflicts past the renew deadline, take over after expiry, release on stop, RBAC.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import pino from 'pino';
import { KubernetesLeaseLeader } from '../../backend/src/leader-lease';
import { KubernetesApiDouble } from './double';

const TIMING = { leaseDuration: 15, renewDeadline: 10, retryPeriod: 2 };
const NS = 'prescaler';
const LEASES = `/apis/coordination.k8s.io/v1/namespaces/${NS}/leases`;

let dir: string;
let k8s: KubernetesApiDouble;
let kubeconfig: string;

beforeEach(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'prescaler-lease-'));
  k8s = new KubernetesApiDouble();
  await k8s.start();
  kubeconfig = k8s.writeKubeconfig(dir);
});

afterEach(async () => {
  await k8s.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

/** An elector on its own clock (Unix seconds), which the test moves. */
function replica(identity: string, start = 1_800_000_000) {
  const clock = { t: start };
  const e = new KubernetesLeaseLeader({
    kubeconfig,
    namespace: NS,
    name: 'prescaler-leader',
    identity,
    timing: TIMING,
    logger: pino({ level: 'silent' }),
    now: () => clock.t,
  });
  return { e, clock };
}

const spec = () => (k8s.lease(NS, 'prescaler-leader')?.spec ?? {}) as Record<string, unknown>;
const rv = () => (k8s.lease(NS, 'prescaler-leader')?.metadata as { resourceVersion: string }).resourceVersion;

it('creates the Lease holding it, then renews it with the resourceVersion it read', async () => {
  const a = replica('a');
  await a.e.round();
  expect(a.e.isLeader()).toBe(true);
  const create = k8s.requests.find((r) => r.method === 'POST');
  expect(create).toMatchObject({ path: LEASES });
  expect(create!.body).toMatchObject({
    apiVersion: 'coordination.k8s.io/v1',
    kind: 'Lease',
    metadata: { name: 'prescaler-leader', namespace: NS },
    spec: { holderIdentity: 'a', leaseDurationSeconds: 15, leaseTransitions: 0 },
  });
  const acquired = spec().acquireTime;
  const first = rv();
  a.clock.t += 2;
  await a.e.round();
  const put = k8s.requests.filter((r) => r.method === 'PUT');
  expect(put).toHaveLength(1);
  expect(put[0].path).toBe(`${LEASES}/prescaler-leader`);
  expect((put[0].body as { metadata: { resourceVersion: string } }).metadata.resourceVersion).toBe(first);
  expect(spec()).toMatchObject({ holderIdentity: 'a', leaseTransitions: 0, acquireTime: acquired });
  expect(new Date(spec().renewTime as string).getTime()).toBe(a.clock.t * 1000);
  expect(Number(rv())).toBeGreaterThan(Number(first));
});

it('leaves a Lease another replica renews alone, and names that replica', async () => {
  const a = replica('a');
  const b = replica('b', 1_800_000_500); // clocks need not agree
  await a.e.round();
  for (let i = 0; i < 10; i++) {
    a.clock.t += 2;
    b.clock.t += 2;
    await a.e.round();
    await b.e.round();
    expect(b.e.isLeader()).toBe(false);
  }
  expect(await b.e.leader()).toBe('a');
  expect(
    k8s.requests.filter(
      (r) =>
        r.method === 'PUT' && (r.body as { spec: { holderIdentity: string } }).spec.holderIdentity === 'b'
    )
  ).toHaveLength(0);
});

it('loses leadership when conflicts keep it from renewing past the renew deadline', async () => {
  const a = replica('a');
  await a.e.round();
  k8s.faults.conflicts = 100; // every update finds that someone else wrote first (409)
  a.clock.t += 2;
  await a.e.round();
  expect(a.e.isLeader()).toBe(true); // one missed renewal: still inside the deadline
  a.clock.t += 8; // 10 s since the last renewal
  await a.e.round();
  expect(a.e.isLeader()).toBe(false);
});

it('takes over a Lease whose holder stopped renewing, once it has been unchanged for its duration', async () => {
  const a = replica('a');
  const b = replica('b');
  await a.e.round(); // a holds it, then dies without releasing
  await b.e.round();
  expect(b.e.isLeader()).toBe(false);
  b.clock.t += 14;
  await b.e.round();
  expect(b.e.isLeader()).toBe(false); // 14 s < 15 s since b saw it change
  b.clock.t += 1;
  await b.e.round();
  expect(b.e.isLeader()).toBe(true);
  expect(spec()).toMatchObject({ holderIdentity: 'b', leaseTransitions: 1 });
  // The old holder, back, finds b's Lease and does not write it.
  a.clock.t += 30;
  const puts = k8s.requests.filter((r) => r.method === 'PUT').length;
  await a.e.round();
  expect(k8s.requests.filter((r) => r.method === 'PUT')).toHaveLength(puts);
  expect(a.e.isLeader()).toBe(false); // its last renewal is 30 s old: past the renew deadline
  expect(await a.e.leader()).toBe('b');
});

it('loses the race to create: the second create is a 409 AlreadyExists', async () => {
  const a = replica('a');
  const b = replica('b');
  await Promise.all([a.e.round(), b.e.round()]);
  expect([a.e.isLeader(), b.e.isLeader()].filter(Boolean)).toHaveLength(1);
  expect(k8s.requests.filter((r) => r.method === 'POST')).toHaveLength(2);
});

it('releases the Lease on stop, so a follower takes over at its next retry', async () => {
  const a = replica('a');
  const b = replica('b');
  await a.e.round();
  await b.e.round();
  await a.e.stop();
  expect(spec()).toMatchObject({ holderIdentity: '', leaseDurationSeconds: 1 });
  b.clock.t += 2;
  await b.e.round();
  expect(b.e.isLeader()).toBe(true);
});

it('does not lead without RBAC to read leases', async () => {
  k8s.faults.forbid.add('get leases');
  const a = replica('a');
  await a.e.round();
  expect(a.e.isLeader()).toBe(false);
  expect(k8s.requests.at(-1)).toMatchObject({ method: 'GET', path: `${LEASES}/prescaler-leader` });
});
