/**
 * The shipped demo-stack configuration is consistent and valid: promtool checks and unit-tests the
 * Prometheus rules; every data source uid referenced exists; plugin ids match src/**\/plugin.json; the
 * compose file mounts what exists and sets only environment variables the code reads.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import YAML from 'yaml';
import { loadConfig } from '../backend/src/config';
import { ensurePrometheusBinaries } from './helpers/prometheus';

const root = path.resolve(__dirname, '..');
const prov = path.join(root, 'provisioning');
const read = (p: string) => fs.readFileSync(path.join(root, p), 'utf8');
const yaml = (p: string) => YAML.parse(read(p));

let promtool: string;
beforeAll(async () => {
  promtool = (await ensurePrometheusBinaries()).promtool;
}, 300_000);

describe('Prometheus configuration', () => {
  it('passes promtool check rules', () => {
    const out = execFileSync(
      promtool,
      ['check', 'rules', path.join(prov, 'prometheus/rules/prescaler.rules.yml')],
      {
        encoding: 'utf8',
      }
    );
    expect(out).toMatch(/SUCCESS: 6 rules found/);
  });

  it('passes promtool check config (rule files resolved from the repository)', () => {
    const cfg = yaml('provisioning/prometheus/prometheus.yml');
    cfg.rule_files = [path.join(prov, 'prometheus/rules/*.yml')];
    const tmp = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'prescaler-prov-')), 'prometheus.yml');
    fs.writeFileSync(tmp, YAML.stringify(cfg));
    const out = execFileSync(promtool, ['check', 'config', tmp], { encoding: 'utf8' });
    expect(out).toMatch(/SUCCESS/);
    expect(out).toMatch(/SUCCESS: 6 rules found/);
  });

  it('passes promtool test rules: each alert fires on a synthetic series and not on a normal one', () => {
    const out = execFileSync(promtool, ['test', 'rules', 'tests/prescaler.rules.test.yml'], {
      cwd: path.join(prov, 'prometheus'),
      encoding: 'utf8',
    });
    expect(out).toMatch(/SUCCESS/);
  });

  it('alerts only on metrics the backend exports, and on the job that scrapes it', () => {
    const rules = yaml('provisioning/prometheus/rules/prescaler.rules.yml').groups.flatMap(
      (g: { rules: Array<{ alert: string; expr: string }> }) => g.rules
    );
    const exported = read('backend/src/metrics.ts');
    for (const r of rules)
      for (const m of r.expr.match(/prescaler_[a-z_]+/g) ?? [])
        expect([r.alert, m, exported.includes(`'${m}'`)]).toEqual([r.alert, m, true]);
    const jobs = yaml('provisioning/prometheus/prometheus.yml').scrape_configs.map(
      (s: { job_name: string }) => s.job_name
    );
    const down = rules.find((r: { alert: string }) => r.alert === 'PrescalerBackendDown');
    expect(jobs).toContain(/job="([^"]+)"/.exec(down.expr)?.[1]);
  });

  it('PrescalerAnomalyScoreHigh compares the score with the exported threshold, in every copy of the rule', () => {
    // One number: the detector's calibrated threshold, exported as prescaler_anomaly_threshold. No copy of
    // the rule may carry a number of its own.
    const prom = yaml('provisioning/prometheus/rules/prescaler.rules.yml')
      .groups.flatMap((g: { rules: Array<{ alert: string; expr: string }> }) => g.rules)
      .find((r: { alert: string }) => r.alert === 'PrescalerAnomalyScoreHigh');
    const operator = yaml('deploy/components/prometheus-operator/prometheusrule.yaml')
      .spec.groups.flatMap((g: { rules: Array<{ alert: string; expr: string }> }) => g.rules)
      .find((r: { alert: string }) => r.alert === 'PrescalerAnomalyScoreHigh');
    const grafana = yaml('provisioning/grafana/alerting/prescaler.yml').groups[0].rules.find(
      (r: { title: string }) => r.title === 'PrescalerAnomalyScoreHigh'
    );
    const grafanaExpr: string = grafana.data.find((d: { refId: string }) => d.refId === 'A').model.expr;
    for (const expr of [prom.expr, operator.expr, grafanaExpr]) {
      expect(expr).toMatch(
        /prescaler_anomaly_score\)\s*>=\s*(bool\s+)?on \(\) group_left \(\) max\(prescaler_anomaly_threshold\)/
      );
      expect(expr.replace(/prescaler_[a-z_]+/g, '')).not.toMatch(/\d/);
    }
    expect(prom.for).toBeUndefined();
    expect(operator).toEqual(prom);
  });

  it('scrapes the backend and the demo workload on the ports compose gives them', () => {
    const cfg = yaml('provisioning/prometheus/prometheus.yml');
    const compose = yaml('docker-compose.yml');
    const targets = cfg.scrape_configs.flatMap((s: { static_configs: Array<{ targets: string[] }> }) =>
      s.static_configs.flatMap((c) => c.targets)
    );
    expect(targets).toEqual(['prescaler:8080', 'demo-workload:9100']);
    expect(compose.services.prescaler.environment.PORT).toBe('8080');
    expect(compose.services['demo-workload'].environment.PORT).toBe('9100');
  });
});

describe('Grafana provisioning', () => {
  const datasources = yaml('provisioning/grafana/datasources/datasources.yml').datasources;
  const uids = new Set<string>(datasources.map((d: { uid: string }) => d.uid));
  const pluginIds = ['src/plugin.json', 'src/datasource/plugin.json', 'src/panel/plugin.json'].map(
    (p) => JSON.parse(read(p)).id as string
  );

  it('uses the plugin ids of src/**/plugin.json', () => {
    expect(pluginIds).toEqual([
      'prescaler-autoscaling-app',
      'prescaler-forecast-datasource',
      'prescaler-forecast-panel',
    ]);
    expect(datasources.find((d: { uid: string }) => d.uid === 'prescaler').type).toBe(pluginIds[1]);
    const apps = yaml('provisioning/grafana/plugins/prescaler.yml').apps;
    expect(apps[0].type).toBe(pluginIds[0]);
    const allowed =
      yaml('docker-compose.yml').services.grafana.environment.GF_PLUGINS_ALLOW_LOADING_UNSIGNED_PLUGINS;
    expect(allowed.split(',').sort()).toEqual([...pluginIds].sort());
  });

  it('references only data sources that exist, from dashboards and alert rules', () => {
    const dash = JSON.parse(read('provisioning/grafana/dashboards/prescaler.json'));
    const refs: string[] = [];
    const walk = (o: unknown): void => {
      if (Array.isArray(o)) o.forEach(walk);
      else if (o && typeof o === 'object') {
        const rec = o as Record<string, unknown>;
        if (rec.datasource && typeof rec.datasource === 'object')
          refs.push((rec.datasource as { uid: string }).uid);
        if (typeof rec.datasourceUid === 'string' && rec.datasourceUid !== '__expr__')
          refs.push(rec.datasourceUid);
        Object.values(rec).forEach(walk);
      }
    };
    walk(dash);
    walk(yaml('provisioning/grafana/alerting/prescaler.yml'));
    expect(refs.length).toBeGreaterThan(5);
    for (const r of refs) expect(uids).toContain(r);
    const panelTypes = dash.panels.map((p: { type: string }) => p.type);
    expect(panelTypes).toContain(pluginIds[2]);
  });

  it('sends the alert webhook to the backend route and alerts on exported metrics', () => {
    const alerting = yaml('provisioning/grafana/alerting/prescaler.yml');
    expect(alerting.contactPoints[0].receivers[0].settings.url).toBe(
      'http://prescaler:8080/api/alerts/webhook'
    );
    const exprs = alerting.groups[0].rules.flatMap((r: { data: Array<{ model: { expr?: string } }> }) =>
      r.data.map((d) => d.model.expr).filter(Boolean)
    );
    const exported = read('backend/src/metrics.ts');
    for (const e of exprs)
      for (const m of e.match(/prescaler_[a-z_]+/g)) expect(exported).toContain(`'${m}'`);
  });
});

describe('docker-compose.yml', () => {
  const compose = yaml('docker-compose.yml');

  it('mounts files and folders that exist', () => {
    for (const svc of Object.values<{ volumes?: string[] }>(compose.services)) {
      for (const v of svc.volumes ?? []) {
        const src = v.split(':')[0];
        if (!src.startsWith('.')) continue; // a named volume
        expect(fs.existsSync(path.join(root, src))).toBe(true);
      }
    }
  });

  it('sets only environment variables the code or provisioning reads', () => {
    const config = read('backend/src/config.ts');
    const provisioningText = [
      read('provisioning/grafana/datasources/datasources.yml'),
      read('provisioning/grafana/plugins/prescaler.yml'),
      read('provisioning/grafana/alerting/prescaler.yml'),
      read('provisioning/prescaler/prescaler.yaml'),
      read('backend/src/cli/demo-workload.ts'),
    ].join('\n');
    for (const [name, svc] of Object.entries<{ environment?: Record<string, string> }>(compose.services)) {
      for (const key of Object.keys(svc.environment ?? {})) {
        if (key.startsWith('GF_')) continue; // Grafana's own settings
        const readBy = config.includes(key) || provisioningText.includes(key);
        expect({ service: name, key, readBy }).toEqual({ service: name, key, readBy: true });
      }
    }
  });

  it('needs nothing built on the host: backend and plugin come from the Dockerfile', () => {
    const dockerfile = read('Dockerfile');
    const targets = [...dockerfile.matchAll(/^FROM \S+ AS (\S+)$/gm)].map((m) => m[1]);
    for (const name of ['prescaler', 'demo-workload', 'demo-history'])
      expect(compose.services[name].build).toEqual({ context: '.', target: 'runtime' });
    expect(compose.services['grafana-plugin'].build).toEqual({ context: '.', target: 'plugin' });
    expect(targets).toEqual(expect.arrayContaining(['runtime', 'plugin']));
    expect(compose.services['grafana-plugin'].volumes).toEqual([
      'grafana-plugin:/plugins/prescaler-autoscaling-app',
    ]);
    expect(compose.services.grafana.volumes).toContain(
      'grafana-plugin:/var/lib/grafana/plugins/prescaler-autoscaling-app:ro'
    );
    expect(JSON.stringify(compose)).not.toContain('./dist');
  });

  it('gives every long-running service a health check; one-shot steps are waited for to complete', () => {
    const oneShot = new Set<string>();
    for (const [name, svc] of Object.entries<{ restart?: string; healthcheck?: { test: string[] } }>(
      compose.services
    )) {
      if (svc.restart === 'no') oneShot.add(name);
      else
        expect({ name, healthcheck: Array.isArray(svc.healthcheck?.test) }).toEqual({
          name,
          healthcheck: true,
        });
    }
    expect([...oneShot].sort()).toEqual([
      'demo-history',
      'grafana-plugin',
      'grafana-users',
      'prometheus-backfill',
    ]);
    for (const svc of Object.values<{ depends_on?: Record<string, { condition: string }> }>(
      compose.services
    )) {
      for (const [dep, { condition }] of Object.entries(svc.depends_on ?? {}))
        expect({ dep, condition }).toEqual({
          dep,
          condition: oneShot.has(dep) ? 'service_completed_successfully' : 'service_healthy',
        });
    }
  });

  it('backfills Prometheus from the demo history before Prometheus starts, on the volume it serves', () => {
    const s = compose.services;
    expect(s.prometheus.depends_on).toEqual({
      'prometheus-backfill': { condition: 'service_completed_successfully' },
    });
    expect(s['prometheus-backfill'].depends_on).toEqual({
      'demo-history': { condition: 'service_completed_successfully' },
    });
    expect(s['prometheus-backfill'].image).toBe(s.prometheus.image);
    expect(s.prometheus.volumes).toContain('prometheus-data:/prometheus');
    expect(s.prometheus.command).toContain('--storage.tsdb.path=/prometheus');
    expect(s['prometheus-backfill'].volumes).toEqual([
      'prometheus-data:/prometheus',
      'demo-history:/backfill:ro',
    ]);
    expect(s['demo-history'].volumes).toEqual(['demo-history:/data']);
    const written = s['demo-history'].command[s['demo-history'].command.indexOf('--openmetrics') + 1];
    expect(written).toBe('/data/demo-history.om');
    expect(s['prometheus-backfill'].command[0]).toContain(
      'promtool tsdb create-blocks-from openmetrics --max-block-duration=240h /backfill/demo-history.om /prometheus'
    );
    expect(s['demo-history'].command.slice(0, 2)).toEqual(['node', 'build/backend/cli/demo-backfill.js']);
    expect(s['demo-workload'].command).toEqual(['node', 'build/backend/cli/demo-workload.js']);
  });

  it('loads the backend config the compose file points at', () => {
    const env = compose.services.prescaler.environment;
    const c = loadConfig({
      PRESCALER_CONFIG: path.join(root, 'provisioning/prescaler/prescaler.yaml'),
      PRESCALER_OPERATOR_TOKEN: env.PRESCALER_OPERATOR_TOKEN,
      PRESCALER_VIEWER_TOKEN: env.PRESCALER_VIEWER_TOKEN,
    });
    expect(c.targets.map((t) => t.name)).toEqual(['web', 'api']);
  });
});
