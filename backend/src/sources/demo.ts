/**
 * The built-in demo source: realistic workload series (daily and weekly cycle, noise, bursts, injected
 * anomalies) so the backend runs on a bare machine. Every value is a pure function of (seed, series,
 * time): hashing, not a sequential RNG, so a point is the same whatever range it is queried in.
 */
import { echo, PrescalerError, quoted } from '../errors';
import { compileAnchored, RegexSyntaxError } from './re2';
import type { Labels, Point, Series } from '../series/types';
import { assertRange, DEFAULT_MAX_POINTS_PER_SERIES, rangeTimes } from './range';
import type { RangeQuery, SeriesSource } from './types';

export const DEMO_METRICS = ['demo_cpu_usage', 'demo_memory_usage'] as const;
export type DemoMetric = (typeof DEMO_METRICS)[number];

export type DemoAnomalyKind = 'spike' | 'level_shift' | 'dropout';

/** An anomaly window. `factor` multiplies CPU inside it (memory moves less, see memoryFactor). */
export interface DemoAnomaly {
  deployment: string;
  kind: DemoAnomalyKind;
  /** Unix seconds, [start, end). */
  start: number;
  end: number;
  factor: number;
  /** Scheduled by the seed, or added with injectAnomaly / the constructor. */
  injected: boolean;
  id?: string;
}

export interface InjectAnomalyOptions {
  /** Default: every deployment. */
  deployment?: string;
  kind: DemoAnomalyKind;
  start: number;
  end: number;
  /** CPU multiplier inside the window. Defaults: spike 4, level_shift 1.8, dropout 0.03. */
  factor?: number;
}

export interface DemoSourceOptions {
  seed?: number;
  /** Anomaly windows added on top of the scheduled ones. */
  anomalies?: InjectAnomalyOptions[];
  /** Unix seconds; points after it are not served (no data from the future). Default: wall clock. */
  now?: () => number;
  maxPointsPerSeries?: number;
}

interface DeploymentProfile {
  name: string;
  namespace: string;
  /** Cores when idle and the extra cores at the daily peak. */
  idleCores: number;
  peakCores: number;
  /** Hours the daily curve is shifted by (a worker lags the web tier it drains). */
  phaseHours: number;
  /** Weekend load relative to weekdays. */
  weekendFactor: number;
  /** Chance per hour that a burst starts. */
  burstsPerHour: number;
  /** Nightly batch window instead of a daily curve: [start hour, nominal length in hours]. */
  nightly?: [number, number];
  memoryBaseBytes: number;
  memoryPerCoreBytes: number;
  /** Memory creeps up by this share of the base until the pods restart, every this many hours. */
  leakShare: number;
  restartHours: number;
}

const MiB = 1024 * 1024;

const DEPLOYMENTS: DeploymentProfile[] = [
  {
    name: 'web',
    namespace: 'shop',
    idleCores: 0.8,
    peakCores: 3.2,
    phaseHours: 0,
    weekendFactor: 0.55,
    burstsPerHour: 0.05,
    memoryBaseBytes: 900 * MiB,
    memoryPerCoreBytes: 120 * MiB,
    leakShare: 0.12,
    restartHours: 26,
  },
  {
    name: 'api',
    namespace: 'shop',
    idleCores: 1.2,
    peakCores: 4.6,
    phaseHours: 0.5,
    weekendFactor: 0.6,
    burstsPerHour: 0.07,
    memoryBaseBytes: 1400 * MiB,
    memoryPerCoreBytes: 150 * MiB,
    leakShare: 0.2,
    restartHours: 31,
  },
  {
    name: 'search',
    namespace: 'shop',
    idleCores: 0.3,
    peakCores: 1.4,
    phaseHours: 0.25,
    weekendFactor: 0.7,
    burstsPerHour: 0.03,
    memoryBaseBytes: 2600 * MiB,
    memoryPerCoreBytes: 60 * MiB,
    leakShare: 0.05,
    restartHours: 47,
  },
  {
    name: 'worker',
    namespace: 'jobs',
    idleCores: 0.5,
    peakCores: 2.1,
    phaseHours: 1.5,
    weekendFactor: 0.5,
    burstsPerHour: 0.12,
    memoryBaseBytes: 600 * MiB,
    memoryPerCoreBytes: 200 * MiB,
    leakShare: 0.25,
    restartHours: 13,
  },
  {
    name: 'batch',
    namespace: 'jobs',
    idleCores: 0.1,
    peakCores: 6.0,
    phaseHours: 0,
    weekendFactor: 1,
    burstsPerHour: 0,
    nightly: [1, 2.5],
    memoryBaseBytes: 300 * MiB,
    memoryPerCoreBytes: 500 * MiB,
    leakShare: 0,
    restartHours: 24,
  },
];

const DAY = 86400;
const HOUR = 3600;
/** 1970-01-01 was a Thursday: day index 0 is weekday 4 (Sunday = 0). */
const EPOCH_WEEKDAY = 4;
/** Chance per deployment and day of one scheduled anomaly. */
const ANOMALIES_PER_DAY = 0.3;

const DEFAULT_FACTOR: Record<DemoAnomalyKind, number> = { spike: 4, level_shift: 1.8, dropout: 0.03 };

export class DemoSource implements SeriesSource {
  readonly kind = 'demo' as const;
  readonly seed: number;
  private readonly now: () => number;
  private readonly maxPoints: number;
  private injected: DemoAnomaly[] = [];
  private readonly scheduleCache = new Map<string, Map<number, DemoAnomaly | undefined>>();
  private nextId = 1;

  constructor(opts: DemoSourceOptions = {}) {
    this.seed = (opts.seed ?? 42) >>> 0;
    this.now = opts.now ?? (() => Date.now() / 1000);
    this.maxPoints = opts.maxPointsPerSeries ?? DEFAULT_MAX_POINTS_PER_SERIES;
    for (const a of opts.anomalies ?? []) this.injectAnomaly(a);
  }

  /** The deployments the demo knows, with their namespaces. */
  static deployments(): Array<{ deployment: string; namespace: string }> {
    return DEPLOYMENTS.map((d) => ({ deployment: d.name, namespace: d.namespace }));
  }

  async queryRange(q: RangeQuery, signal?: AbortSignal): Promise<Series[]> {
    if (signal?.aborted) throw signal.reason ?? new DOMException('The operation was aborted', 'AbortError');
    assertRange(q, this.maxPoints);
    const matchers = parseSelector(q.query);
    const now = this.now();
    const times = rangeTimes(q).filter((t) => t <= now);
    const out: Series[] = [];
    for (const metric of DEMO_METRICS) {
      for (const dep of DEPLOYMENTS) {
        const labels: Labels = { __name__: metric, deployment: dep.name, namespace: dep.namespace };
        if (!matchers.every((m) => m.test(labels[m.name] ?? ''))) continue;
        const points: Point[] = times.map((t) => [t, this.value(metric, dep, t)]);
        out.push({ labels, points });
      }
    }
    return out;
  }

  /** Same shape as PrometheusSource.ping, for the health endpoint. */
  async ping(): Promise<{ version: string | null }> {
    return { version: null };
  }

  /**
   * Adds an anomaly window at run time (e.g. to drive an anomaly score up in an alerting test).
   * Returns its id for removeAnomaly.
   */
  injectAnomaly(a: InjectAnomalyOptions): string {
    if (!(a.end > a.start)) throw new RangeError(`anomaly end (${a.end}) must be after start (${a.start})`);
    const deps =
      a.deployment === undefined ? DEPLOYMENTS : DEPLOYMENTS.filter((d) => d.name === a.deployment);
    if (deps.length === 0) {
      throw new RangeError(
        `unknown demo deployment ${a.deployment}; known: ${DEPLOYMENTS.map((d) => d.name).join(', ')}`
      );
    }
    const id = `injected-${this.nextId++}`;
    for (const d of deps) {
      this.injected.push({
        id,
        deployment: d.name,
        kind: a.kind,
        start: a.start,
        end: a.end,
        factor: a.factor ?? DEFAULT_FACTOR[a.kind],
        injected: true,
      });
    }
    return id;
  }

  removeAnomaly(id: string): void {
    this.injected = this.injected.filter((a) => a.id !== id);
  }

  clearInjectedAnomalies(): void {
    this.injected = [];
  }

  /** Every anomaly window (scheduled and injected) overlapping [start, end), sorted by start: ground truth. */
  anomalies(start: number, end: number, deployment?: string): DemoAnomaly[] {
    const out: DemoAnomaly[] = [];
    for (const dep of DEPLOYMENTS) {
      if (deployment !== undefined && dep.name !== deployment) continue;
      const firstDay = Math.floor(start / DAY) - 1;
      const lastDay = Math.floor(end / DAY);
      for (let day = firstDay; day <= lastDay; day++) {
        const a = this.scheduledAnomaly(dep, day);
        if (a && a.end > start && a.start < end) out.push(a);
      }
      for (const a of this.injected) {
        if (a.deployment === dep.name && a.end > start && a.start < end) out.push(a);
      }
    }
    return out.sort((x, y) => x.start - y.start || x.deployment.localeCompare(y.deployment));
  }

  /** The value of one demo series at time t (seconds). */
  valueAt(metric: DemoMetric, deployment: string, t: number): number {
    const dep = DEPLOYMENTS.find((d) => d.name === deployment);
    if (!dep) throw new RangeError(`unknown demo deployment ${deployment}`);
    return this.value(metric, dep, t);
  }

  private value(metric: DemoMetric, dep: DeploymentProfile, t: number): number {
    const sid = seriesId(dep.name);
    const factor = this.anomalyFactor(dep, t);
    const demand = this.demand(dep, t);
    if (metric === 'demo_cpu_usage') {
      const noisy =
        demand * (1 + 0.06 * this.smoothNoise(sid, 1, t, 600) + 0.035 * this.whiteNoise(sid, 2, t));
      return round(Math.max(0.005, noisy * this.burst(dep, sid, t) * factor.cpu), 1e4);
    }
    // Memory follows the demand it serves, plus a slow leak that resets when the pods restart.
    const period = dep.restartHours * HOUR;
    const phase = unit(hash(this.seed, sid, 3, 0)) * period;
    const sinceRestart = mod(t + phase, period) / period;
    const bytes =
      dep.memoryBaseBytes * (1 + dep.leakShare * sinceRestart) +
      dep.memoryPerCoreBytes * demand * (1 + 0.02 * this.smoothNoise(sid, 4, t, 900));
    return Math.round(bytes * (1 + 0.004 * this.whiteNoise(sid, 5, t)) * factor.memory);
  }

  /** Deterministic cores demanded at t, before noise, bursts and anomalies. */
  private demand(dep: DeploymentProfile, t: number): number {
    const day = Math.floor(t / DAY);
    if (dep.nightly) {
      const [startHour, hours] = dep.nightly;
      // The job's length varies by night; it may run past midnight into the next day's window.
      for (let d = day; d >= day - 1; d--) {
        const runStart = d * DAY + startHour * HOUR + unit(hash(this.seed, seriesId(dep.name), 6, d)) * 900;
        const runHours = hours * (0.7 + 0.6 * unit(hash(this.seed, seriesId(dep.name), 7, d)));
        const shape = trapezoid(t, runStart, runStart + runHours * HOUR, 300);
        if (shape > 0) return dep.idleCores + dep.peakCores * shape;
      }
      return dep.idleCores;
    }
    const hour = mod(t / HOUR - dep.phaseHours, 24);
    const weekday = mod(day + EPOCH_WEEKDAY, 7);
    const weekend = weekday === 0 || weekday === 6 ? dep.weekendFactor : 1;
    // Trough near 04:00, peak mid-afternoon, a smaller evening hump.
    const daily =
      0.5 * (1 - Math.cos((2 * Math.PI * (hour - 4)) / 24)) +
      0.15 * Math.exp(-((hour - 20.5) ** 2) / (2 * 1.2 ** 2));
    return dep.idleCores + dep.peakCores * weekend * daily;
  }

  /** Short traffic bursts: at most one per hour slot, trapezoid-shaped, 5–25 min. */
  private burst(dep: DeploymentProfile, sid: number, t: number): number {
    if (dep.burstsPerHour <= 0) return 1;
    const slot = Math.floor(t / HOUR);
    let f = 1;
    for (let s = slot; s >= slot - 1; s--) {
      if (unit(hash(this.seed, sid, 10, s)) >= dep.burstsPerHour) continue;
      const start = s * HOUR + unit(hash(this.seed, sid, 11, s)) * HOUR;
      const length = 300 + unit(hash(this.seed, sid, 12, s)) * 1200;
      const height = 0.3 + unit(hash(this.seed, sid, 13, s)) * 0.6;
      f += height * trapezoid(t, start, start + length, 120);
    }
    return f;
  }

  private anomalyFactor(dep: DeploymentProfile, t: number): { cpu: number; memory: number } {
    let cpu = 1;
    let memory = 1;
    const day = Math.floor(t / DAY);
    const apply = (a: DemoAnomaly | undefined) => {
      if (!a || t < a.start || t >= a.end) return;
      cpu *= a.factor;
      memory *= memoryFactor(a);
    };
    apply(this.scheduledAnomaly(dep, day));
    apply(this.scheduledAnomaly(dep, day - 1));
    for (const a of this.injected) if (a.deployment === dep.name) apply(a);
    return { cpu, memory };
  }

  /** Memoised: every value looks up two days, and a range query asks for the same days again and again. */
  private scheduledAnomaly(dep: DeploymentProfile, day: number): DemoAnomaly | undefined {
    let byDay = this.scheduleCache.get(dep.name);
    if (!byDay) this.scheduleCache.set(dep.name, (byDay = new Map()));
    if (byDay.has(day)) return byDay.get(day);
    if (byDay.size > 4096) byDay.clear();
    const a = this.computeScheduledAnomaly(dep, day);
    byDay.set(day, a);
    return a;
  }

  /** The anomaly (if any) the seed schedules for a deployment on a day; it may run into the next day. */
  private computeScheduledAnomaly(dep: DeploymentProfile, day: number): DemoAnomaly | undefined {
    const sid = seriesId(dep.name);
    if (unit(hash(this.seed, sid, 20, day)) >= ANOMALIES_PER_DAY) return undefined;
    const pick = unit(hash(this.seed, sid, 21, day));
    const r1 = unit(hash(this.seed, sid, 22, day));
    const r2 = unit(hash(this.seed, sid, 23, day));
    const start = day * DAY + Math.floor(unit(hash(this.seed, sid, 24, day)) * (DAY / 60)) * 60;
    let kind: DemoAnomalyKind;
    let length: number;
    let factor: number;
    if (pick < 0.45) {
      kind = 'spike';
      length = (5 + Math.floor(r1 * 11)) * 60;
      factor = 2.5 + r2 * 1.5;
    } else if (pick < 0.75) {
      kind = 'level_shift';
      length = (120 + Math.floor(r1 * 241)) * 60;
      factor = 1.6 + r2 * 0.6;
    } else {
      kind = 'dropout';
      length = (15 + Math.floor(r1 * 31)) * 60;
      factor = 0.03;
    }
    return { deployment: dep.name, kind, start, end: start + length, factor, injected: false };
  }

  /** Smooth noise in [-1, 1]: hashed values on a grid, eased in between. */
  private smoothNoise(sid: number, stream: number, t: number, grid: number): number {
    const k = Math.floor(t / grid);
    const f = t / grid - k;
    const a = 2 * unit(hash(this.seed, sid, stream, k)) - 1;
    const b = 2 * unit(hash(this.seed, sid, stream, k + 1)) - 1;
    const e = f * f * (3 - 2 * f);
    return a + (b - a) * e;
  }

  /** Roughly normal noise (sum of three uniforms), mean 0, sd 0.5, fixed per whole second. */
  private whiteNoise(sid: number, stream: number, t: number): number {
    const s = Math.floor(t);
    return (
      unit(hash(this.seed, sid, stream, s)) +
      unit(hash(this.seed, sid, stream + 100, s)) +
      unit(hash(this.seed, sid, stream + 200, s)) -
      1.5
    );
  }
}

/** Memory reacts less than CPU: a spike barely moves it, pods down (dropout) release most of it. */
function memoryFactor(a: DemoAnomaly): number {
  switch (a.kind) {
    case 'spike':
      return 1 + (a.factor - 1) * 0.15;
    case 'level_shift':
      return 1 + (a.factor - 1) * 0.5;
    case 'dropout':
      return 0.2;
  }
}

// ---- selectors ------------------------------------------------------------------------------------

interface Matcher {
  name: string;
  test: (value: string) => boolean;
}

function knownMetricsHint(): string {
  const example = `${DEMO_METRICS[0]}{deployment="${DEPLOYMENTS[0].name}"}`;
  return (
    `the demo source answers plain selectors of its metrics ${DEMO_METRICS.join(', ')} ` +
    `(labels deployment: ${DEPLOYMENTS.map((d) => d.name).join('|')}, namespace: shop|jobs), e.g. ${example}`
  );
}

/**
 * Parses `name`, `name{…}` or `{…}` with matchers `=`, `!=`, `=~`, `!~` (regexes fully anchored, as in
 * PromQL). Anything else is a bad_query naming what the demo knows.
 */
export function parseSelector(query: string): Matcher[] {
  const src = query.trim();
  const fail = (why: string): never => {
    throw new PrescalerError('bad_query', `${why} in ${quoted(query)}: ${knownMetricsHint()}`);
  };
  let i = 0;
  const skipSpace = () => {
    while (i < src.length && /\s/.test(src[i])) i++;
  };
  const matchers: Matcher[] = [];

  const nameMatch = /^[a-zA-Z_:][a-zA-Z0-9_:]*/.exec(src);
  if (nameMatch) {
    const metric = nameMatch[0];
    const next = src.slice(metric.length).trimStart();
    if (next.startsWith('(') || /^(by|without)\b/.test(next)) {
      fail(
        `not a plain selector (functions and aggregations such as ${echo(metric, 100)}(…) are not supported)`
      );
    }
    if (!(DEMO_METRICS as readonly string[]).includes(metric)) fail(`unknown metric ${echo(metric, 100)}`);
    matchers.push({ name: '__name__', test: (v) => v === metric });
    i = metric.length;
    skipSpace();
  }
  if (i < src.length) {
    if (src[i] !== '{') fail('not a plain selector');
    i++;
    for (;;) {
      skipSpace();
      if (src[i] === '}') {
        i++;
        break;
      }
      const label = /^[a-zA-Z_][a-zA-Z0-9_]*/.exec(src.slice(i));
      if (!label) fail(`expected a label name at position ${i}`);
      const name = label![0];
      i += name.length;
      skipSpace();
      const op = /^(=~|!~|!=|=)/.exec(src.slice(i));
      if (!op) fail(`expected =, !=, =~ or !~ after ${echo(name, 100)}`);
      i += op![0].length;
      skipSpace();
      const value = readString();
      matchers.push(makeMatcher(name, op![0], value));
      skipSpace();
      if (src[i] === ',') {
        i++;
        continue;
      }
      if (src[i] === '}') {
        i++;
        break;
      }
      fail(`expected , or } at position ${i}`);
    }
    skipSpace();
    if (i < src.length) fail('not a plain selector');
  }
  if (matchers.length === 0) fail('empty selector');
  // PromQL's own rule: a selector matching every series (all matchers accept "") is refused.
  if (matchers.every((m) => m.test(''))) fail('a selector needs at least one matcher that does not match ""');
  return matchers;

  function readString(): string {
    const quote = src[i];
    if (quote !== '"' && quote !== "'" && quote !== '`') fail(`expected a quoted value at position ${i}`);
    i++;
    let out = '';
    while (i < src.length && src[i] !== quote) {
      if (src[i] === '\\' && quote !== '`') {
        const c = src[i + 1];
        out += c === 'n' ? '\n' : c === 't' ? '\t' : c === 'r' ? '\r' : (c ?? '');
        i += 2;
      } else out += src[i++];
    }
    if (src[i] !== quote) fail('unterminated string');
    i++;
    return out;
  }

  function makeMatcher(name: string, op: string, value: string): Matcher {
    if (op === '=') return { name, test: (v) => v === value };
    if (op === '!=') return { name, test: (v) => v !== value };
    // RE2 semantics in linear time (re2.ts): JavaScript's RegExp can backtrack for minutes on one pattern.
    let matches: (v: string) => boolean;
    try {
      matches = compileAnchored(value);
    } catch (err) {
      if (!(err instanceof RegexSyntaxError)) throw err;
      return fail(`invalid regular expression ${quoted(value)} (${echo(err.message)})`);
    }
    return op === '=~' ? { name, test: matches } : { name, test: (v) => !matches(v) };
  }
}

// ---- hashing --------------------------------------------------------------------------------------

// A module-level binding: looking `Math` up as a global on every call is many times slower under jest's vm.
const imul = Math.imul;

const seriesIds = new Map<string, number>();

function seriesId(name: string): number {
  let id = seriesIds.get(name);
  if (id === undefined) seriesIds.set(name, (id = fnv1a(name)));
  return id;
}

function fnv1a(name: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) h = imul(h ^ name.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

function fmix(h: number): number {
  h ^= h >>> 16;
  h = imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** A 32-bit hash of (seed, series, stream, index); index may be any safe integer (e.g. Unix seconds). */
function hash(seed: number, sid: number, stream: number, index: number): number {
  const lo = index >>> 0;
  const hi = ((index - lo) / 4294967296) >>> 0;
  let h = fmix(seed ^ 0x9e3779b9);
  h = fmix(h ^ sid);
  h = fmix(h ^ imul(stream + 1, 0x27d4eb2f));
  h = fmix(h ^ lo);
  return fmix(h ^ hi);
}

function unit(h: number): number {
  return h / 4294967296;
}

function mod(a: number, n: number): number {
  return ((a % n) + n) % n;
}

/** 0 outside [start, end], 1 inside, linear ramps of `ramp` seconds at both ends. */
function trapezoid(t: number, start: number, end: number, ramp: number): number {
  if (t <= start || t >= end) return 0;
  return Math.min(1, (t - start) / ramp, (end - t) / ramp);
}

function round(x: number, scale: number): number {
  return Math.round(x * scale) / scale;
}
