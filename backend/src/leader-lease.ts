/**
 * Leader election through a coordination.k8s.io/v1 Lease, with the semantics of client-go's
 * tools/leaderelection (leaderelection.go tryAcquireOrRenew, resourcelock/leaselock.go):
 * - no Lease yet: create it holding it (a 409 AlreadyExists means someone else was first);
 * - a Lease held by another is respected while its record, as this replica last *saw it change*, is
 *   younger than its leaseDurationSeconds — measured on this replica's own clock, never the holder's
 *   renewTime, so clocks need not agree;
 * - otherwise update it (PUT with the resourceVersion read): holder, renewTime, and on a change of
 *   holder acquireTime and leaseTransitions + 1; a 409 Conflict means another replica wrote first;
 * - a leader that could not renew for renewDeadline stops leading; on stop it releases the Lease
 *   (holder cleared) so a follower takes over at its next retry instead of after the lease.
 */
import * as fs from 'node:fs';
import type * as K8s from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { BaseElector, type ElectionTiming, type LeaderElector } from './leader';

let client: typeof K8s | undefined;
function k8s(): typeof K8s {
  // ESM-only package, required natively (actuate/kubernetes.ts says why).
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  client ??= require('@kubernetes/client-node') as typeof K8s;
  return client;
}

const SA_NAMESPACE = '/var/run/secrets/kubernetes.io/serviceaccount/namespace';

export interface LeaseOptions {
  /** A kubeconfig file; else the in-cluster service account. */
  kubeconfig?: string;
  /** Else POD_NAMESPACE's value as given in config, else the service account's namespace. */
  namespace?: string;
  name: string;
  identity: string;
  timing: ElectionTiming;
  logger: Logger;
  /** Unix seconds (tests move it). */
  now?: () => number;
}

const code = (e: unknown) => (e as { code?: number }).code;

export class KubernetesLeaseLeader extends BaseElector implements LeaderElector {
  readonly kind = 'kubernetes' as const;
  readonly identity: string;
  private readonly api: K8s.CoordinationV1Api;
  private readonly namespace: string;
  /** The Lease's spec as last seen change, and when (this replica's clock). */
  private observed?: { raw: string; holder: string; duration: number; at: number };
  private lastRenew = -Infinity;
  private timer?: NodeJS.Timeout;
  private ticking?: Promise<void>;
  private stopped = false;

  constructor(private readonly opts: LeaseOptions) {
    super();
    this.identity = opts.identity;
    const { KubeConfig, CoordinationV1Api } = k8s();
    const kc = new KubeConfig();
    if (opts.kubeconfig) kc.loadFromFile(opts.kubeconfig);
    else kc.loadFromCluster();
    this.api = kc.makeApiClient(CoordinationV1Api);
    this.namespace = opts.namespace ?? fs.readFileSync(SA_NAMESPACE, 'utf8').trim();
  }

  private now(): number {
    return this.opts.now ? this.opts.now() : Date.now() / 1000;
  }

  start(): void {
    this.stopped = false;
    const loop = () => {
      this.ticking = this.round().finally(() => {
        this.ticking = undefined;
        if (!this.stopped) {
          this.timer = setTimeout(loop, this.opts.timing.retryPeriod * 1000);
          this.timer.unref();
        }
      });
    };
    loop();
  }

  /** One attempt to acquire or renew; steps down once renewing has failed for renewDeadline. */
  async round(): Promise<void> {
    let ok = false;
    try {
      ok = await this.tryAcquireOrRenew();
    } catch (e) {
      this.opts.logger.warn(
        { err: (e as Error).message, lease: this.opts.name },
        'lease not acquired or renewed'
      );
    }
    const now = this.now();
    if (ok && !this.stopped) {
      this.lastRenew = now;
      if (!this.leading) this.opts.logger.info({ identity: this.identity }, 'became leader');
      this.set(true);
    } else if (this.leading && now - this.lastRenew >= this.opts.timing.renewDeadline) {
      this.opts.logger.error(
        { identity: this.identity },
        'lost leadership: the lease was not renewed in time'
      );
      this.set(false);
    }
  }

  private observe(spec: K8s.V1LeaseSpec | undefined, now: number): void {
    const raw = JSON.stringify({
      h: spec?.holderIdentity ?? '',
      d: spec?.leaseDurationSeconds,
      r: spec?.renewTime ? new Date(spec.renewTime as unknown as string).getTime() : null,
      t: spec?.leaseTransitions,
    });
    if (this.observed?.raw === raw) return;
    this.observed = {
      raw,
      holder: spec?.holderIdentity ?? '',
      duration: spec?.leaseDurationSeconds ?? this.opts.timing.leaseDuration,
      at: now,
    };
  }

  private spec(now: number, prior?: K8s.V1LeaseSpec): K8s.V1LeaseSpec {
    const mine = prior?.holderIdentity === this.identity;
    const t = new Date(now * 1000);
    return {
      holderIdentity: this.identity,
      leaseDurationSeconds: Math.ceil(this.opts.timing.leaseDuration),
      acquireTime: (mine && prior?.acquireTime ? prior.acquireTime : t) as K8s.V1LeaseSpec['acquireTime'],
      renewTime: t as K8s.V1LeaseSpec['renewTime'],
      leaseTransitions: mine ? (prior?.leaseTransitions ?? 0) : prior ? (prior.leaseTransitions ?? 0) + 1 : 0,
    };
  }

  private async tryAcquireOrRenew(): Promise<boolean> {
    const now = this.now();
    const { name } = this.opts;
    const namespace = this.namespace;
    let lease: K8s.V1Lease;
    try {
      lease = await this.api.readNamespacedLease({ name, namespace });
    } catch (e) {
      if (code(e) !== 404) throw e;
      try {
        const created = await this.api.createNamespacedLease({
          namespace,
          body: {
            apiVersion: 'coordination.k8s.io/v1',
            kind: 'Lease',
            metadata: { name, namespace },
            spec: this.spec(now),
          },
        });
        this.observe(created.spec, now);
        return true;
      } catch (err) {
        if (code(err) === 409) return false; // created by another replica first
        throw err;
      }
    }
    this.observe(lease.spec, now);
    const o = this.observed!;
    if (o.holder && o.holder !== this.identity && o.at + o.duration > now) return false;
    try {
      const updated = await this.api.replaceNamespacedLease({
        name,
        namespace,
        body: { ...lease, spec: this.spec(now, lease.spec) },
      });
      this.observe(updated.spec, now);
      return true;
    } catch (e) {
      if (code(e) === 409) return false; // another replica wrote first
      throw e;
    }
  }

  async leader(): Promise<string | null> {
    const o = this.observed;
    if (!o || !o.holder || o.at + o.duration <= this.now()) return this.leading ? this.identity : null;
    return o.holder;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.ticking;
    if (!this.leading) return;
    this.set(false);
    // Release (client-go's ReleaseOnCancel): an empty holder lets a follower take over at its next retry.
    try {
      const { name } = this.opts;
      const lease = await this.api.readNamespacedLease({ name, namespace: this.namespace });
      if (lease.spec?.holderIdentity !== this.identity) return;
      const t = new Date(this.now() * 1000) as K8s.V1LeaseSpec['renewTime'];
      await this.api.replaceNamespacedLease({
        name,
        namespace: this.namespace,
        body: {
          ...lease,
          spec: { ...lease.spec, holderIdentity: '', leaseDurationSeconds: 1, renewTime: t, acquireTime: t },
        },
      });
    } catch (e) {
      this.opts.logger.warn(
        { err: (e as Error).message },
        'lease not released; it expires after its duration'
      );
    }
  }
}
