import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ConfigError, loadConfig } from './config';

let dir: string;
beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'prescaler-config-'))));
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

function withYaml(yaml: string, env: Record<string, string> = {}) {
  const file = path.join(dir, 'config.yaml');
  fs.writeFileSync(file, yaml);
  return loadConfig({ PRESCALER_CONFIG: file, ...env });
}

const TARGET = `
targets:
  - name: web
    namespace: default
    workload: {kind: Deployment, name: web}
    query: sum(rate(container_cpu_usage_seconds_total{pod=~"web-.*"}[5m]))
    capacityPerReplica: 0.5
    targetUtilization: 0.7
    minReplicas: 2
    maxReplicas: 20
`;

describe('loadConfig', () => {
  it('has working defaults with an empty environment', () => {
    const c = loadConfig({});
    expect(c.port).toBe(8080);
    expect(c.prometheus).toBeUndefined();
    expect(c.actuator).toBe('dry-run');
    expect(c.dbPath).toBe('./data/prescaler.db');
    expect(c.targets).toEqual([]);
  });

  it('reads the cache and upstream settings, with their defaults', () => {
    expect(loadConfig({})).toMatchObject({
      historyCache: { maxFreshness: 600, maxAge: 3600, maxMegabytes: 256 },
      memo: { maxMegabytes: 64 },
      upstream: { splitInterval: 86400, splitParallelism: 4 },
      warnings: [],
    });
    const c = withYaml('memo: {maxMegabytes: 0}\nupstream: {splitInterval: 12h, splitParallelism: 2}\n');
    expect(c.memo.maxMegabytes).toBe(0);
    expect(c.warnings).toEqual([]);
    expect(c.upstream).toEqual({ splitInterval: 43200, splitParallelism: 2, headers: {} });
    expect(withYaml('upstream: {splitInterval: 0}\n').upstream.splitInterval).toBe(0);
    expect(() => withYaml('upstream: {splitInterval: -1h}\n')).toThrow(ConfigError);
    expect(() => withYaml('upstream: {splitParallelism: 0}\n')).toThrow(/splitParallelism/);
  });

  it('still reads the old name of memo.maxMegabytes, historyCache.maxAnswerMegabytes, with a warning', () => {
    const old = withYaml('historyCache: {maxMegabytes: 128, maxAnswerMegabytes: 0}\n');
    expect(old.memo.maxMegabytes).toBe(0);
    expect(old.historyCache.maxMegabytes).toBe(128);
    expect(old.historyCache).not.toHaveProperty('maxAnswerMegabytes');
    expect(old.warnings).toEqual([
      expect.stringMatching(/maxAnswerMegabytes is deprecated.*memo\.maxMegabytes/),
    ]);
    // Both given: the new name wins, and the old one is reported as ignored.
    const both = withYaml('historyCache: {maxAnswerMegabytes: 8}\nmemo: {maxMegabytes: 16}\n');
    expect(both.memo.maxMegabytes).toBe(16);
    expect(both.warnings).toEqual([expect.stringMatching(/deprecated and ignored/)]);
    expect(() => withYaml('memo: {maxMegabytes: -1}\n')).toThrow(/memo\.maxMegabytes/);
    expect(() => withYaml('memo: {answers: 1}\n')).toThrow(/memo/);
  });

  it('reads upstream headers (a Mimir tenant) and Thanos partial_response; refuses headers it cannot send', () => {
    const c = withYaml('upstream:\n  headers: {X-Scope-OrgID: team-a}\n  partialResponse: false\n');
    expect(c.upstream).toMatchObject({ headers: { 'X-Scope-OrgID': 'team-a' }, partialResponse: false });
    expect(loadConfig({}).upstream.partialResponse).toBeUndefined();
    expect(() => withYaml('upstream: {headers: {"Bad Name": x}}\n')).toThrow(/upstream.headers.*header name/);
    expect(() => withYaml('upstream: {headers: {X-A: "a\\r\\nX-B: b"}}\n')).toThrow(/line break/);
    expect(() => withYaml('upstream: {headers: {Host: evil}}\n')).toThrow(/set by Prescaler/);
    expect(() => withYaml('upstream: {partialResponse: "yes"}\n')).toThrow(/partialResponse/);
  });

  it('reads the docs/api.md example', () => {
    const c = withYaml(
      `auth:\n  tokens:\n    - {name: grafana, token: "0123456789abcdef0", role: operator}\n    - {name: ro, tokenEnv: RO_TOKEN, role: viewer}\n${TARGET}`,
      { RO_TOKEN: 'viewer-token-0123456789', PROMETHEUS_URL: 'http://prom:9090' }
    );
    expect(c.prometheus).toEqual({ url: 'http://prom:9090', bearerToken: undefined });
    expect(c.tokens).toEqual([
      { name: 'grafana', role: 'operator', token: '0123456789abcdef0' },
      { name: 'ro', role: 'viewer', token: 'viewer-token-0123456789' },
    ]);
    expect(c.targets[0]).toMatchObject({ name: 'web', minReplicas: 2, maxReplicas: 20, startup: 120 });
  });

  it('opens reads without a token only when no tokens are configured or auth.anonymousReads says so', () => {
    expect(loadConfig({}).anonymousReads).toBe(true);
    const tokens = 'auth:\n  tokens:\n    - {name: g, token: "0123456789abcdef0", role: viewer}\n';
    expect(withYaml(tokens).anonymousReads).toBe(false);
    expect(withYaml(tokens + '  anonymousReads: true\n').anonymousReads).toBe(true);
    expect(withYaml('auth: {anonymousReads: false}\n').anonymousReads).toBe(true); // nothing to present
  });

  it('takes a SQLite path, relative, absolute or :memory:, as PRESCALER_DB', () => {
    for (const p of [
      './data/prescaler.db',
      '/var/lib/prescaler/p.db',
      'p.db',
      ':memory:',
      'dir:with/colon.db',
    ])
      expect(loadConfig({ PRESCALER_DB: p }).dbPath).toBe(p);
  });

  it('takes a postgres:// or postgresql:// URL as PRESCALER_DB', () => {
    for (const u of [
      'postgres://prescaler:pw@db:5432/prescaler',
      'postgresql://db/prescaler?sslmode=require',
    ])
      expect(loadConfig({ PRESCALER_DB: u }).dbPath).toBe(u);
  });

  it("elects through PostgreSQL by default with a postgres:// store, with client-go's durations", () => {
    expect(loadConfig({}).leaderElection).toMatchObject({
      mode: 'none',
      leaseDuration: 15,
      renewDeadline: 10,
      retryPeriod: 2,
    });
    const pg = loadConfig({
      PRESCALER_DB: 'postgres://db/p',
      POD_NAME: 'prescaler-0',
      PRESCALER_LEASE_DURATION: '30s',
    });
    expect(pg.leaderElection).toMatchObject({ mode: 'postgres', leaseDuration: 30, reconcileAfter: 60 });
    expect(pg.leaderElection.identity).toBe(`prescaler-0_${process.pid}`);
    expect(() => loadConfig({ PRESCALER_LEADER_ELECTION: 'postgres' })).toThrow(
      /PRESCALER_LEADER_ELECTION=postgres needs PRESCALER_DB=postgres:\/\/…: with SQLite only one process/
    );
    expect(
      loadConfig({
        PRESCALER_DB: 'postgres://db/p',
        PRESCALER_LEADER_ELECTION: 'kubernetes',
        POD_NAMESPACE: 'ops',
      }).leaderElection
    ).toMatchObject({ mode: 'kubernetes', namespace: 'ops', leaseName: 'prescaler-leader' });
    expect(() => loadConfig({ PRESCALER_LEASE_DURATION: '10s' })).toThrow(
      /PRESCALER_LEASE_DURATION \(10 s\) must be greater than PRESCALER_RENEW_DEADLINE \(10 s\)/
    );
    expect(() => loadConfig({ PRESCALER_RETRY_PERIOD: '9s' })).toThrow(
      /1.2 × PRESCALER_RETRY_PERIOD \(9 s\)/
    );
  });

  it('reads a token from a file', () => {
    const tf = path.join(dir, 'token');
    fs.writeFileSync(tf, 'from-a-file-0123456789\n');
    const c = withYaml(`auth:\n  tokens:\n    - {name: g, tokenFile: ${tf}, role: operator}\n`);
    expect(c.tokens[0].token).toBe('from-a-file-0123456789');
  });

  it.each([
    [{ PORT: 'eighty' }, /environment PORT: must be a port number/],
    [{ PROMETHEUS_URL: 'prometheus:9090' }, /environment PROMETHEUS_URL/],
    [{ PRESCALER_ACTUATOR: 'yolo' }, /environment PRESCALER_ACTUATOR/],
    [{ PRESCALER_CONFIG: '/nonexistent/prescaler.yaml' }, /PRESCALER_CONFIG: cannot read/],
    [{ PRESCALER_DB: 'mysql://db/prescaler' }, /environment PRESCALER_DB: mysql:\/\/ URLs are not supported/],
    [{ PRESCALER_DB: 'sqlite:///var/lib/prescaler.db' }, /environment PRESCALER_DB: sqlite:\/\/ URLs/],
  ])('names the bad environment key %j', (env, re) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(re);
  });

  it.each([
    ['targets: [{name: web}]', /targets\.0\.workload: Required/],
    [TARGET.replace('maxReplicas: 20', 'maxReplicas: 1'), /minReplicas must be ≤ maxReplicas/],
    [TARGET.replace('capacityPerReplica: 0.5', 'capacityPerReplica: -1'), /targets\.0\.capacityPerReplica/],
    [TARGET + TARGET.replace('targets:\n', ''), /duplicate target "web"/],
    [
      'auth:\n  tokens:\n    - {name: g, token: short, role: operator}',
      /auth\.tokens\.0\.token: a token must be at least 16/,
    ],
    ['auth:\n  tokens:\n    - {name: g, token: "0123456789abcdef0", role: admin}', /auth\.tokens\.0\.role/],
    [
      'auth:\n  tokens:\n    - {name: g, tokenEnv: NOPE_NOT_SET, role: operator}',
      /tokenEnv: environment variable NOPE_NOT_SET/,
    ],
    ['surprise: 1', /Unrecognized key\(s\) in object: 'surprise'/],
    ['targets: [\n', /not valid YAML/],
    ['evaluation: {interval: soon}', /evaluation\.interval: "soon" is not a positive duration/],
  ])('names the bad file key in %j', (yaml, re) => {
    expect(() => withYaml(yaml)).toThrow(re);
  });
});
