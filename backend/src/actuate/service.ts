/**
 * Applies recommendations safely: re-checks them, writes the decision to the audit log before the
 * actuator touches anything and the outcome after, acts once per recommendation however many requests
 * ask, reconciles decisions a crash left `unknown`, reverts expired HPA floors, and turns alerts into
 * emergency recommendations (applied without a human only where a target's policy says so).
 */
import type { Logger } from 'pino';
import type { Config, TargetConfig } from '../config';
import { PrescalerError, quoted } from '../errors';
import type { Metrics } from '../metrics';
import { emergencyReplicas } from '../recommend/emergency';
import { recordEmergencyRecommendation } from '../recommend/recommendations';
import type { AuditRecord, StoredRecommendation, Store } from '../store/store';
import { testSeamCrashPoint } from './test-seam';
import { applyTookEffect, type Actuator } from './types';

export interface ApplyResult {
  record: AuditRecord;
  /** Set when the action failed (or its outcome is not known yet): the apply answers with it. */
  error?: PrescalerError;
}

export interface AlertInput {
  target: string;
  alertName: string;
  /** Identifies one alert (its label set) across repeated notifications. */
  fingerprint: string;
  /**
   * When this occurrence of the alert began, normalised ('' if the sender gave none). Repeated
   * notifications of a firing alert carry the same startsAt; a new firing after it resolved, a new one.
   */
  startsAt: string;
}

export interface EmergencyOutcome {
  target: string;
  alert: string;
  status: 'pending' | 'auto-applied' | 'auto-apply-failed' | 'duplicate' | 'no-change' | 'ignored';
  message: string;
  recommendationId?: string;
  record?: AuditRecord;
}

/** prescaler_actions_total's outcomes (http/metrics.ts says what each means). */
export const ACTION_OUTCOMES = ['applied', 'failed', 'refused', 'unknown'] as const;
export type ActionOutcome = (typeof ACTION_OUTCOMES)[number];

/** Recommendation ids and records live in recommend/recommendations.ts. */
export { newRecommendationId } from '../recommend/recommendations';

const fmtTime = (t: number) => new Date(t * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');

export class ActuationService {
  private readonly inflight = new Map<string, Promise<ApplyResult>>();
  private readonly inflightAudit = new Set<number>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private closed = false;

  constructor(
    private readonly deps: {
      config: Config;
      store: Store;
      actuator: Actuator;
      logger: Logger;
      /** prescaler_actions_total is counted here when given. */
      metrics?: Metrics;
      now?: () => number;
      /** Leader election (leader.ts): floors are reverted by the leader only. Default: always leading. */
      isLeader?: () => boolean;
      /**
       * Seconds an `unknown` record may be another replica's apply in progress, so reconciling leaves it
       * alone (a shared store only; default 60: three Kubernetes calls of at most 10 s each, with room).
       * With SQLite this process is the only actor and knows its own applies in flight.
       */
      inFlightGrace?: number;
    }
  ) {
    // Every target's outcomes from 0, so the first failure is an increase rate() and increase() can see.
    for (const t of deps.config.targets)
      for (const outcome of ACTION_OUTCOMES) deps.metrics?.actions.inc({ target: t.name, outcome }, 0);
  }

  private count(target: string, outcome: ActionOutcome): void {
    this.deps.metrics?.actions.inc({ target, outcome });
  }

  private now(): number {
    return this.deps.now ? this.deps.now() : Date.now() / 1000;
  }

  /** Whether an `unknown` record is settled from the cluster now, or may still be in flight elsewhere. */
  private mayReconcile(record: AuditRecord): boolean {
    if (this.inflightAudit.has(record.id)) return false;
    if (this.deps.store.kind === 'sqlite') return true;
    return record.at <= this.now() - (this.deps.inFlightGrace ?? 60);
  }

  private leading(): boolean {
    return this.deps.isLeader ? this.deps.isLeader() : true;
  }

  target(name: string): TargetConfig | undefined {
    return this.deps.config.targets.find((t) => t.name === name);
  }

  /** Applies a recommendation once; concurrent and repeated calls get that one action's record. */
  apply(recommendationId: string, actor: string): Promise<ApplyResult> {
    const running = this.inflight.get(recommendationId);
    if (running) return running;
    const p = this.applyOnce(recommendationId, actor).finally(() => this.inflight.delete(recommendationId));
    this.inflight.set(recommendationId, p);
    return p;
  }

  private async applyOnce(id: string, actor: string): Promise<ApplyResult> {
    const { store, actuator, logger } = this.deps;
    const now = this.now();
    await store.expireDue(now);
    let target: TargetConfig | undefined;
    let expectedReplicas: number | undefined;
    let refusedFor: string | undefined; // the recommendation's target, once it was found
    let decided;
    try {
      decided = await store.decideApply(id, { at: now, actor, dryRun: actuator.dryRun }, (rec) => {
        if (!rec) throw new PrescalerError('not_found', `no recommendation ${quoted(id)}`);
        refusedFor = rec.target;
        if (rec.status !== 'pending') {
          throw new PrescalerError(
            'conflict',
            `recommendation ${id} is ${rec.status}${rec.status === 'expired' ? ` (at ${fmtTime(rec.expiresAt)})` : ''}`
          );
        }
        target = this.target(rec.target);
        if (!target) throw new PrescalerError('conflict', `target ${rec.target} is no longer configured`);
        if (rec.recommendedReplicas < target.minReplicas || rec.recommendedReplicas > target.maxReplicas) {
          throw new PrescalerError(
            'conflict',
            `recommendation ${id} asks for ${rec.recommendedReplicas} replicas, outside ${rec.target}'s bounds ` +
              `[${target.minReplicas}, ${target.maxReplicas}]`
          );
        }
        expectedReplicas = rec.currentReplicas;
        return rec;
      });
    } catch (e) {
      // Refused once the recommendation was found: not pending, out of bounds, or another action in flight.
      if (e instanceof PrescalerError && refusedFor !== undefined && this.target(refusedFor))
        this.count(refusedFor, 'refused');
      throw e;
    }
    let record = decided.record;
    if (decided.existing) {
      if (record.outcome === 'unknown' && this.mayReconcile(record)) record = await this.reconcileOne(record);
      return this.resultOf(record);
    }
    logger.info(
      { audit: record.id, recommendation: id, actor, target: record.target, to: record.toReplicas },
      'apply decided'
    );
    return this.act(record, target!, expectedReplicas!);
  }

  /**
   * Runs the action of a decided audit record and writes its outcome. The actuator refuses (stale) if
   * the workload no longer runs `expectedReplicas`, the count the recommendation was computed from.
   */
  private async act(
    record: AuditRecord,
    target: TargetConfig,
    expectedReplicas: number
  ): Promise<ApplyResult> {
    const { store, actuator, logger, config } = this.deps;
    this.inflightAudit.add(record.id);
    try {
      await testSeamCrashPoint('before-act');
      let outcome: AuditRecord;
      try {
        const r = await actuator.apply(target, record.toReplicas, {
          now: this.now(),
          floorTtl: target.floorTtl,
          expectedReplicas,
        });
        await testSeamCrashPoint('after-act');
        outcome = await store.finishAudit(record.id, 'applied', {
          now: this.now(),
          detail: r.detail,
          fromReplicas: r.fromReplicas,
        });
        if (target.workload.kind === 'HorizontalPodAutoscaler') this.scheduleFloorSweep(target.floorTtl);
      } catch (e) {
        const err =
          e instanceof PrescalerError
            ? e
            : new PrescalerError('internal', `actuator failed: ${(e as Error).message}`);
        if ((e as { uncertain?: boolean }).uncertain) {
          logger.error(
            { audit: record.id, err: err.message },
            'apply outcome unknown; left for reconciliation'
          );
          this.count(record.target, 'unknown');
          return { record: (await store.getAudit(record.id))!, error: err };
        }
        outcome = await store.finishAudit(record.id, 'failed', {
          now: this.now(),
          detail: err.message,
          errorCode: err.code,
        });
      }
      this.count(outcome.target, outcome.outcome === 'applied' ? 'applied' : 'failed');
      logger.info(
        {
          audit: outcome.id,
          outcome: outcome.outcome,
          target: outcome.target,
          detail: outcome.detail,
          dryRun: config.actuator === 'dry-run',
        },
        'apply done'
      );
      return this.resultOf(outcome);
    } finally {
      this.inflightAudit.delete(record.id);
    }
  }

  private resultOf(record: AuditRecord): ApplyResult {
    if (record.outcome === 'applied') return { record };
    if (record.outcome === 'unknown') {
      return {
        record,
        error: new PrescalerError(
          'conflict',
          `the outcome of audit record ${record.id} is not known yet; it is reconciled from the cluster`
        ),
      };
    }
    const code = (record.errorCode ?? 'upstream_error') as PrescalerError['code'];
    return { record, error: new PrescalerError(code, record.detail ?? 'failed') };
  }

  /** Settles an `unknown` record by reading the workload; leaves it unknown if the cluster cannot be read. */
  async reconcileOne(record: AuditRecord): Promise<AuditRecord> {
    const { store, actuator, logger } = this.deps;
    const target = this.target(record.target);
    if (!target) {
      logger.warn(
        { audit: record.id, target: record.target },
        'cannot reconcile: target no longer configured'
      );
      return record;
    }
    let state;
    try {
      state = await actuator.read(target);
    } catch (e) {
      logger.warn(
        { audit: record.id, err: (e as Error).message },
        'cannot reconcile yet: workload unreadable'
      );
      return record;
    }
    const took =
      record.action === 'apply'
        ? applyTookEffect(target, state, record.toReplicas)
        : !state.floor || state.floor.expiresAt > record.at;
    const seen = `${target.workload.kind === 'HorizontalPodAutoscaler' ? 'minReplicas' : 'replicas'} ${state.setpoint}`;
    const detail = took
      ? `reconciled after an interruption: the workload shows ${seen}, so the action took effect`
      : `reconciled after an interruption: the workload shows ${seen}, so the action did not take effect`;
    const done = await store.finishAudit(record.id, took ? 'applied' : 'failed', {
      now: this.now(),
      detail,
      reconciled: true,
      errorCode: took ? undefined : 'conflict',
    });
    this.count(done.target, took ? 'applied' : 'failed');
    logger.warn({ audit: done.id, outcome: done.outcome }, 'reconciled an interrupted action');
    return done;
  }

  /** Start-up (and every loop tick): settle every decision a crash left without an outcome. */
  async reconcile(): Promise<AuditRecord[]> {
    const out: AuditRecord[] = [];
    for (const r of await this.deps.store.unknownAudits()) {
      if (!this.mayReconcile(r)) continue;
      out.push(await this.reconcileOne(r));
    }
    return out;
  }

  private scheduleFloorSweep(ttl: number): void {
    if (this.closed) return;
    const timer = setTimeout(
      () => {
        this.timers.delete(timer);
        this.sweepFloors().catch((e) =>
          this.deps.logger.error({ err: (e as Error).message }, 'floor sweep failed')
        );
      },
      ttl * 1000 + 250
    );
    timer.unref();
    this.timers.add(timer);
  }

  /** Reverts every HPA floor whose time is up, each action audited like an apply. */
  async sweepFloors(): Promise<AuditRecord[]> {
    const { store, actuator, logger, config } = this.deps;
    const out: AuditRecord[] = [];
    // A follower's apply schedules a sweep too; the leader's loop sweeps every round anyway.
    if (!this.leading()) return out;
    for (const t of config.targets) {
      if (t.workload.kind !== 'HorizontalPodAutoscaler') continue;
      try {
        const state = await actuator.read(t);
        const floor = state.floor;
        if (!floor || floor.expiresAt > this.now()) continue;
        const record = await store.decideAction({
          at: this.now(),
          action: 'revert-floor',
          actor: 'prescaler:floor-expiry',
          target: t.name,
          fromReplicas: floor.replicas,
          toReplicas: floor.originalMinReplicas,
          recommendationId: null,
          dryRun: actuator.dryRun,
        });
        this.inflightAudit.add(record.id);
        try {
          const detail = await actuator.revertFloor(t, floor);
          out.push(await store.finishAudit(record.id, 'applied', { now: this.now(), detail }));
          this.count(t.name, 'applied');
        } catch (e) {
          const err = e as PrescalerError;
          const uncertain = (e as { uncertain?: boolean }).uncertain;
          this.count(t.name, uncertain ? 'unknown' : 'failed');
          if (!uncertain) {
            out.push(
              await store.finishAudit(record.id, 'failed', {
                now: this.now(),
                detail: err.message,
                errorCode: err.code,
              })
            );
          }
        } finally {
          this.inflightAudit.delete(record.id);
        }
      } catch (e) {
        logger.warn({ target: t.name, err: (e as Error).message }, 'floor check failed');
      }
    }
    return out;
  }

  /**
   * An alert for a target: an emergency recommendation, applied at once where the target's policy
   * allows. One per occurrence of an alert (fingerprint + startsAt), however long it fires: Alertmanager
   * and Grafana repeat a firing alert every repeat interval, and each repeat escalating would ratchet
   * the target up to its cap. The occurrence is claimed in the database before anything else, so
   * concurrent deliveries and restarts do not escalate twice either.
   */
  async raiseEmergency(alert: AlertInput): Promise<EmergencyOutcome> {
    const { store, actuator, config } = this.deps;
    const base = { target: alert.target, alert: alert.alertName };
    const t = this.target(alert.target);
    if (!t) return { ...base, status: 'ignored', message: `no configured target ${quoted(alert.target)}` };
    const now = this.now();
    const claim = await store.claimAlertOccurrence(t.name, alert.fingerprint, alert.startsAt, now);
    if (!claim.claimed) {
      const seen = claim.occurrence;
      const prior = seen.recommendationId ? await store.getRecommendation(seen.recommendationId) : undefined;
      const since = alert.startsAt ? ` (firing since ${alert.startsAt})` : '';
      return {
        ...base,
        status: 'duplicate',
        message: prior
          ? `this occurrence of the alert${since} was already handled by ${prior.id} (${prior.status}); ` +
            'a new one starts after it resolves'
          : `this occurrence of the alert${since} is being handled by another notification`,
        recommendationId: prior?.id,
      };
    }
    let rec: StoredRecommendation | undefined;
    let reason: string;
    try {
      const state = await actuator.read(t);
      const policy = t.autoApplyEmergency?.enabled ? t.autoApplyEmergency : undefined;
      const e = emergencyReplicas({
        name: t.name,
        currentReplicas: state.replicas,
        minReplicas: t.minReplicas,
        maxReplicas: t.maxReplicas,
        forecastReplicas: (await store.pendingRecommendation(t.name, 'forecast'))?.recommendedReplicas,
        autoApplyCap: policy ? (policy.maxReplicas ?? t.maxReplicas) : undefined,
        alertName: alert.alertName,
      });
      reason = e.reason;
      if (e.change) {
        rec = await recordEmergencyRecommendation(store, {
          target: t.name,
          now,
          ttl: config.evaluation.recommendationTtl,
          currentReplicas: state.replicas,
          recommendedReplicas: e.recommendedReplicas,
          reason: e.reason,
          origin: alert.fingerprint,
        });
      }
    } finally {
      // Without a recommendation (no change possible, or the workload unreadable) nothing was done for
      // this occurrence, so a later notification of it may try again.
      if (rec) await store.settleAlertOccurrence(t.name, alert.fingerprint, alert.startsAt, rec.id);
      else await store.releaseAlertOccurrence(t.name, alert.fingerprint, alert.startsAt);
    }
    // A repeat whose first emergency was overtaken by another action before anyone applied it.
    if (claim.replaces)
      reason = `${reason} (replaces ${claim.replaces}, superseded by another action before it was applied)`;
    if (!rec) return { ...base, status: 'no-change', message: reason };
    if (!t.autoApplyEmergency?.enabled)
      return { ...base, status: 'pending', message: reason, recommendationId: rec.id };
    let r: ApplyResult;
    try {
      r = await this.apply(rec.id, `policy:autoApplyEmergency (alert ${alert.alertName})`);
    } catch (e) {
      // Refused before anything was written (another action on the target in flight): the emergency
      // stays pending for an operator, and if that action supersedes it, the alert's next repeat raises
      // a fresh one. The other alerts of the notification are still handled.
      if (!(e instanceof PrescalerError)) throw e;
      return { ...base, status: 'auto-apply-failed', message: e.message, recommendationId: rec.id };
    }
    return {
      ...base,
      status: r.error ? 'auto-apply-failed' : 'auto-applied',
      message: r.error ? r.error.message : reason,
      recommendationId: rec.id,
      record: r.record,
    };
  }

  /** A resolved notification: the alert's occurrence is over; its next firing is a new one. */
  async resolveAlert(alert: Omit<AlertInput, 'alertName'>): Promise<boolean> {
    const t = this.target(alert.target);
    if (!t) return false;
    return (
      (await this.deps.store.resolveAlertOccurrence(t.name, alert.fingerprint, alert.startsAt, this.now())) >
      0
    );
  }

  /** Waits for applies in flight (so a clean shutdown writes their outcomes) and stops timers. */
  async close(): Promise<void> {
    this.closed = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    await Promise.allSettled([...this.inflight.values()]);
  }
}
