/**
 * Configuration from the environment and the optional `PRESCALER_CONFIG` YAML (docs/api.md "Configuration"), validated
 * once at start-up: a bad value stops the process with a message naming the key.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import YAML from 'yaml';
import { z } from 'zod';
import { parseDuration } from './series/time';

const duration = z.union([z.number(), z.string()]).transform((v, ctx) => {
  const s = parseDuration(v);
  if (s === undefined || !(s > 0)) {
    ctx.addIssue({
      code: z.ZodIssueCode.custom,
      message: `"${v}" is not a positive duration (e.g. 60, 90s, 10m)`,
    });
    return z.NEVER;
  }
  return s;
});

const tokenSchema = z
  .object({
    name: z.string().min(1),
    role: z.enum(['operator', 'viewer']),
    token: z.string().min(16, 'a token must be at least 16 characters').optional(),
    tokenFile: z.string().optional(),
    tokenEnv: z.string().optional(),
  })
  .strict()
  .refine((t) => [t.token, t.tokenFile, t.tokenEnv].filter((x) => x !== undefined).length === 1, {
    message: 'give exactly one of token, tokenFile, tokenEnv',
  });

const targetSchema = z
  .object({
    name: z.string().regex(/^[a-z0-9]([-a-z0-9_.]*[a-z0-9])?$/i, 'letters, digits, -, _ and . only'),
    namespace: z.string().min(1).default('default'),
    workload: z
      .object({
        kind: z.enum(['Deployment', 'StatefulSet', 'HorizontalPodAutoscaler']),
        name: z.string().min(1),
      })
      .strict(),
    query: z.string().min(1),
    capacityPerReplica: z.number().positive(),
    /** Unit of the query's values, used in reasons ("4.2 cores"). */
    unit: z.string().max(32).optional(),
    /** Dry-run only: the replica count assumed before anything is applied (default minReplicas). */
    initialReplicas: z.number().int().min(0).optional(),
    /** Utilisation a replica is planned to run at when demand reaches the forecast band's peak. */
    targetUtilization: z.number().gt(0).max(1).default(0.7),
    /** The forecast band recommendations size for: lower, mean or upper (the LSTM's p10, p50, p90). */
    quantile: z.enum(['lower', 'mean', 'upper']).default('upper'),
    /**
     * Which quantile of the last day's per-bucket peak-to-mean ratios raises the forecast ('off': size for
     * the bucket means).
     */
    peakQuantile: z.union([z.literal('off'), z.number().min(0).max(1)]).default(0.9),
    minReplicas: z.number().int().min(0).default(1),
    maxReplicas: z.number().int().positive(),
    /** Pod start-up time; the recommendation looks this far ahead (plus the evaluation interval). */
    startup: duration.default(120),
    maxStepUp: z.number().int().positive().optional(),
    maxStepDown: z.number().int().positive().optional(),
    // 0: no hold; the forecast alone decides when a scale-down is safe.
    scaleDownStabilization: z.union([z.literal(0), duration]).default(300),
    tolerance: z.number().min(0).max(1).default(0.1),
    /** How long an HPA floor raised by Prescaler holds before it reverts (HPA targets only). */
    floorTtl: duration.default(1800),
    autoApplyEmergency: z
      .object({ enabled: z.boolean().default(false), maxReplicas: z.number().int().positive().optional() })
      .strict()
      .optional(),
  })
  .strict()
  .refine((t) => t.minReplicas <= t.maxReplicas, { message: 'minReplicas must be ≤ maxReplicas' });

const fileSchema = z
  .object({
    auth: z
      .object({
        tokens: z.array(tokenSchema).default([]),
        /** With tokens configured, reads (every /api route but health) need a token unless this is true. */
        anonymousReads: z.boolean().default(false),
      })
      .strict()
      .default({}),
    targets: z.array(targetSchema).default([]),
    evaluation: z
      .object({
        interval: duration.default(60),
        recommendationTtl: duration.default(900),
        /** How late a sample reaches Prometheus (scrape interval and rate window): added to the lead. */
        metricLag: z.union([z.literal(0), duration]).default(30),
      })
      .strict()
      .default({}),
    limits: z
      .object({
        maxPointsPerSeries: z.number().int().positive().default(11000),
        maxSeriesPerQuery: z.number().int().positive().default(2000),
        maxBodyBytes: z.number().int().positive().default(1_000_000),
        upstreamTimeout: duration.default(10),
      })
      .strict()
      .default({}),
    historyCache: z
      .object({
        maxFreshness: duration.default(600),
        maxAge: duration.default(3600),
        /** 0 turns the cache off. */
        maxMegabytes: z.number().min(0).default(256),
        /** The old name of memo.maxMegabytes: still read, with a warning. */
        maxAnswerMegabytes: z.number().min(0).optional(),
      })
      .strict()
      .default({}),
    /**
     * What /api/forecast and /api/anomalies keep to reuse while their inputs are unchanged: the answers
     * (http/answer-memo.ts) and the anomaly answers' raw scores (anomaly/score-memo.ts).
     */
    memo: z
      .object({
        /** Each of the two memos holds at most this much; 0 turns both off. Default 64. */
        maxMegabytes: z.number().min(0).optional(),
      })
      .strict()
      .default({}),
    upstream: z
      .object({
        /** Ranges longer than this are read from Prometheus as pieces this long (sources/split.ts). */
        splitInterval: z.union([z.literal(0), duration]).default(86_400),
        /** Pieces of one range read at once. */
        splitParallelism: z.number().int().positive().default(4),
        /** Sent with every upstream request, e.g. `X-Scope-OrgID: team-a` for a Mimir or Cortex tenant. */
        headers: z
          .record(
            z.string().regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/, 'must be an HTTP header name'),
            z.string().regex(/^[^\r\n\0]*$/, 'must not hold a line break or NUL')
          )
          .refine(
            (h) => !Object.keys(h).some((k) => /^(content-type|content-length|host)$/i.test(k)),
            'Content-Type, Content-Length and Host are set by Prescaler'
          )
          .default({}),
        /** Thanos' `partial_response` query parameter; unset: not sent (the querier's default applies). */
        partialResponse: z.boolean().optional(),
      })
      .strict()
      .default({}),
  })
  .strict()
  .superRefine((c, ctx) => {
    const seen = new Set<string>();
    c.targets.forEach((t, i) => {
      if (seen.has(t.name))
        ctx.addIssue({
          code: 'custom',
          path: ['targets', i, 'name'],
          message: `duplicate target "${t.name}"`,
        });
      seen.add(t.name);
    });
  });

export type TargetConfig = z.infer<typeof targetSchema>;

/** A target as PRESCALER_CONFIG gives it, validated and with its defaults filled in (throws on a bad one). */
export function parseTarget(raw: unknown): TargetConfig {
  return targetSchema.parse(raw);
}
export type Role = 'operator' | 'viewer';
export interface ApiToken {
  name: string;
  role: Role;
  token: string;
}

export interface Config {
  port: number;
  host: string;
  prometheus?: { url: string; bearerToken?: string };
  /** PRESCALER_DB: a SQLite file's path, or a postgres:// (postgresql://) URL (store/store.ts). */
  dbPath: string;
  modelsDir: string;
  actuator: 'dry-run' | 'kubernetes';
  kubeconfig?: string;
  logLevel: string;
  tokens: ApiToken[];
  /**
   * Reads without a token. Always true with no tokens configured (the bare demo); with tokens, false
   * unless `auth.anonymousReads: true`.
   */
  anonymousReads: boolean;
  targets: TargetConfig[];
  evaluation: { interval: number; recommendationTtl: number; metricLag: number };
  limits: {
    maxPointsPerSeries: number;
    maxSeriesPerQuery: number;
    maxBodyBytes: number;
    upstreamTimeout: number;
  };
  /** Older parts of range answers kept between dashboard refreshes (sources/history-cache.ts). */
  historyCache: {
    maxFreshness: number;
    maxAge: number;
    maxMegabytes: number;
  };
  /** Answers and anomaly scores kept to reuse (http/answer-memo.ts, anomaly/score-memo.ts). */
  memo: { maxMegabytes: number };
  /** What the configuration asks for that still works but should change (deprecated keys), to log at start. */
  warnings: string[];
  /**
   * Who runs the evaluation loop (leader.ts). SQLite: none (one process owns the file); PostgreSQL: the
   * advisory lock by default, or a Kubernetes Lease. Durations in seconds.
   */
  leaderElection: {
    mode: 'none' | 'postgres' | 'kubernetes';
    leaseDuration: number;
    renewDeadline: number;
    retryPeriod: number;
    /**
     * Seconds after its decision an `unknown` audit record is taken for an apply whose replica died
     * (and settled from the cluster), rather than one still in flight on another replica (default 60).
     */
    reconcileAfter: number;
    /** This replica's name: POD_NAME, else the host name, with the process id. */
    identity: string;
    /** Where the Lease lives: POD_NAMESPACE, else the in-cluster service account's namespace. */
    namespace?: string;
    leaseName: string;
  };
  upstream: {
    splitInterval: number;
    splitParallelism: number;
    headers: Record<string, string>;
    partialResponse?: boolean;
  };
}

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

function issueText(prefix: string, err: z.ZodError): string {
  return err.issues
    .map((i) => `${prefix}${i.path.length ? i.path.join('.') : '(root)'}: ${i.message}`)
    .join('; ');
}

const envSchema = z.object({
  PORT: z
    .string()
    .regex(/^\d+$/, 'must be a port number')
    .transform(Number)
    .refine((n) => n < 65536, 'must be < 65536')
    .default('8080'),
  HOST: z.string().default('0.0.0.0'),
  PROMETHEUS_URL: z
    .string()
    .regex(/^https?:\/\/[^\s/]+/, 'must be an http(s) URL such as http://prometheus:9090')
    .optional(),
  PROMETHEUS_BEARER_TOKEN: z.string().optional(),
  PRESCALER_CONFIG: z.string().optional(),
  // A SQLite path or a postgres:// URL; any other URL is refused (it would otherwise become a SQLite
  // file under a directory named after its scheme).
  PRESCALER_DB: z
    .string()
    .superRefine((v, ctx) => {
      const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(v.trim())?.[1].toLowerCase();
      if (scheme === undefined || /^postgres(ql)?$/.test(scheme)) return;
      ctx.addIssue({
        code: 'custom',
        message:
          `${scheme}:// URLs are not supported: give the path of a SQLite file (default ` +
          './data/prescaler.db) or a postgres:// URL',
      });
    })
    .default('./data/prescaler.db'),
  PRESCALER_MODELS: z.string().default(path.resolve(__dirname, '../../models')),
  PRESCALER_ACTUATOR: z.enum(['dry-run', 'kubernetes']).optional(),
  KUBECONFIG: z.string().optional(),
  PRESCALER_LEADER_ELECTION: z.enum(['postgres', 'kubernetes']).optional(),
  PRESCALER_LEASE_DURATION: duration.default(15),
  PRESCALER_RENEW_DEADLINE: duration.default(10),
  PRESCALER_RETRY_PERIOD: duration.default(2),
  PRESCALER_RECONCILE_AFTER: duration.default(60),
  PRESCALER_LEASE_NAME: z
    .string()
    .regex(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/, 'must be a Kubernetes object name')
    .default('prescaler-leader'),
  POD_NAME: z.string().optional(),
  POD_NAMESPACE: z.string().optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});

function resolveToken(t: z.infer<typeof tokenSchema>, env: NodeJS.ProcessEnv, i: number): string {
  const where = `PRESCALER_CONFIG auth.tokens.${i}`;
  if (t.token !== undefined) return t.token;
  if (t.tokenEnv !== undefined) {
    const v = env[t.tokenEnv];
    if (!v) throw new ConfigError(`${where}.tokenEnv: environment variable ${t.tokenEnv} is not set`);
    return v.trim();
  }
  try {
    return fs.readFileSync(t.tokenFile!, 'utf8').trim();
  } catch (e) {
    throw new ConfigError(`${where}.tokenFile: cannot read ${t.tokenFile}: ${(e as Error).message}`);
  }
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const e = envSchema.safeParse(Object.fromEntries(Object.entries(env).filter(([, v]) => v !== '')));
  if (!e.success) throw new ConfigError(issueText('environment ', e.error));
  const vars = e.data;

  let fileRaw: unknown = {};
  if (vars.PRESCALER_CONFIG) {
    let text: string;
    try {
      text = fs.readFileSync(vars.PRESCALER_CONFIG, 'utf8');
    } catch (err) {
      throw new ConfigError(
        `PRESCALER_CONFIG: cannot read ${vars.PRESCALER_CONFIG}: ${(err as Error).message}`
      );
    }
    try {
      fileRaw = YAML.parse(text) ?? {};
    } catch (err) {
      throw new ConfigError(
        `PRESCALER_CONFIG ${vars.PRESCALER_CONFIG} is not valid YAML: ${(err as Error).message}`
      );
    }
  }
  const f = fileSchema.safeParse(fileRaw);
  if (!f.success) throw new ConfigError(issueText('PRESCALER_CONFIG ', f.error));
  const file = f.data;
  const warnings: string[] = [];
  const memo = { maxMegabytes: file.memo.maxMegabytes ?? file.historyCache.maxAnswerMegabytes ?? 64 };
  if (file.historyCache.maxAnswerMegabytes !== undefined)
    warnings.push(
      file.memo.maxMegabytes === undefined
        ? 'PRESCALER_CONFIG historyCache.maxAnswerMegabytes is deprecated (it sizes the answer and score ' +
            'memos, not the history cache): write memo.maxMegabytes instead'
        : 'PRESCALER_CONFIG historyCache.maxAnswerMegabytes is deprecated and ignored: memo.maxMegabytes is set'
    );

  const tokens = file.auth.tokens.map((t, i) => ({
    name: t.name,
    role: t.role,
    token: resolveToken(t, env, i),
  }));
  const short = tokens.findIndex((t) => t.token.length < 16);
  if (short >= 0)
    throw new ConfigError(`PRESCALER_CONFIG auth.tokens.${short}: a token must be at least 16 characters`);

  const actuator = vars.PRESCALER_ACTUATOR ?? 'dry-run';
  const postgres = /^postgres(ql)?:\/\//i.test(vars.PRESCALER_DB.trim());
  if (!postgres && vars.PRESCALER_LEADER_ELECTION)
    throw new ConfigError(
      `environment PRESCALER_LEADER_ELECTION=${vars.PRESCALER_LEADER_ELECTION} needs PRESCALER_DB=postgres://…: ` +
        'with SQLite only one process may use the file, so there is no one to elect'
    );
  const timing = {
    leaseDuration: vars.PRESCALER_LEASE_DURATION,
    renewDeadline: vars.PRESCALER_RENEW_DEADLINE,
    retryPeriod: vars.PRESCALER_RETRY_PERIOD,
  };
  // client-go's checks (leaderelection.go NewLeaderElector): a leader must give up before its lease ends.
  if (!(timing.leaseDuration > timing.renewDeadline && timing.renewDeadline > 1.2 * timing.retryPeriod))
    throw new ConfigError(
      `environment PRESCALER_LEASE_DURATION (${timing.leaseDuration} s) must be greater than ` +
        `PRESCALER_RENEW_DEADLINE (${timing.renewDeadline} s), and that greater than 1.2 × PRESCALER_RETRY_PERIOD ` +
        `(${timing.retryPeriod} s)`
    );
  return {
    port: vars.PORT,
    host: vars.HOST,
    prometheus: vars.PROMETHEUS_URL
      ? { url: vars.PROMETHEUS_URL, bearerToken: vars.PROMETHEUS_BEARER_TOKEN }
      : undefined,
    dbPath: vars.PRESCALER_DB,
    modelsDir: vars.PRESCALER_MODELS,
    actuator,
    kubeconfig: vars.KUBECONFIG,
    logLevel: vars.LOG_LEVEL,
    tokens,
    anonymousReads: tokens.length === 0 || file.auth.anonymousReads,
    targets: file.targets,
    evaluation: file.evaluation,
    limits: file.limits,
    historyCache: {
      maxFreshness: file.historyCache.maxFreshness,
      maxAge: file.historyCache.maxAge,
      maxMegabytes: file.historyCache.maxMegabytes,
    },
    memo,
    warnings,
    upstream: file.upstream,
    leaderElection: {
      mode: postgres ? (vars.PRESCALER_LEADER_ELECTION ?? 'postgres') : 'none',
      ...timing,
      reconcileAfter: vars.PRESCALER_RECONCILE_AFTER,
      identity: `${vars.POD_NAME ?? os.hostname()}_${process.pid}`,
      namespace: vars.POD_NAMESPACE,
      leaseName: vars.PRESCALER_LEASE_NAME,
    },
  };
}
