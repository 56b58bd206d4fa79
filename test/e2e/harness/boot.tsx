// Browser side of the e2e harness: plays the part of Grafana's frontend. It registers the real shared
// packages with SystemJS the way Grafana does (public/app/features/plugins/loader: `package:<name>`
// modules behind an import map), provides BackendSrv/TemplateSrv, loads the built dist/**/module.js
// through SystemJS (AMD) and renders the panel with data from the data source, or the app's root page.
import 'systemjs/dist/system.js';
import 'systemjs/dist/extras/amd.js';
import 'systemjs/dist/extras/named-register.js';

import * as emotionCss from '@emotion/css';
import * as emotionReact from '@emotion/react';
import * as grafanaData from '@grafana/data';
import * as grafanaRuntime from '@grafana/runtime';
import * as grafanaUI from '@grafana/ui';
import * as lodash from 'lodash';
import * as react from 'react';
import * as reactDom from 'react-dom';
import * as reactDomClient from 'react-dom/client';
import * as jsxDevRuntime from 'react/jsx-dev-runtime';
import * as jsxRuntime from 'react/jsx-runtime';
import * as rxjs from 'rxjs';
import * as rxjsOperators from 'rxjs/operators';
// Grafana's own stylesheet carries uPlot's (the plot's canvas and cursor layers are absolutely placed by it).
import uplotCss from 'uplot/dist/uPlot.min.css';

import {
  AppPlugin,
  ByNamesMatcherMode,
  DataFrame,
  FieldConfigSource,
  FieldMatcherID,
  DataQueryRequest,
  DataQueryResponse,
  DataSourceInstanceSettings,
  DataSourcePlugin,
  LoadingState,
  PanelPlugin,
  PanelProps,
  ScopedVars,
  StandardEditorProps,
  ThemeContext,
  applyFieldOverrides,
  standardEditorsRegistry,
  createTheme,
  dateTime,
} from '@grafana/data';
import {
  BackendSrv,
  BackendSrvRequest,
  FetchError,
  FetchResponse,
  TemplateSrv,
  config,
  setBackendSrv,
  setTemplateSrv,
} from '@grafana/runtime';
import { DashboardCursorSync } from '@grafana/schema';
import { GlobalStyles, Input, PanelContextProvider, RadioButtonGroup, Select, Switch } from '@grafana/ui';
import { Observable, from, isObservable, lastValueFrom } from 'rxjs';

const System = (window as unknown as { System: SystemLike }).System;

/** Which package set this bundle was built from (vendor.ts, DefinePlugin). */
declare const __PACKAGE_SET__: { id: string; grafanaData: string; grafanaUi: string; grafanaRuntime: string };

interface SystemLike {
  set(id: string, module: object): void;
  import(id: string): Promise<Record<string, unknown>>;
  addImportMap(map: { imports: Record<string, string> }): void;
}

const shared: Record<string, object> = {
  '@emotion/css': emotionCss,
  '@emotion/react': emotionReact,
  '@grafana/data': grafanaData,
  '@grafana/runtime': grafanaRuntime,
  '@grafana/ui': grafanaUI,
  lodash: { ...lodash, __useDefault: true, default: lodash },
  react,
  'react-dom': reactDom,
  'react-dom/client': reactDomClient,
  'react/jsx-runtime': jsxRuntime,
  'react/jsx-dev-runtime': jsxDevRuntime,
  rxjs,
  'rxjs/operators': rxjsOperators,
};

const uplotStyle = document.createElement('style');
uplotStyle.textContent = uplotCss;
document.head.appendChild(uplotStyle);

const imports: Record<string, string> = {};
for (const [name, module] of Object.entries(shared)) {
  System.set(`package:${name}`, module);
  imports[name] = `package:${name}`;
}
System.addImportMap({ imports });

/** Grafana's backend_srv in brief: JSON in and out, non-2xx as a FetchError carrying the parsed body. */
function fetchObservable<T>(options: BackendSrvRequest): Observable<FetchResponse<T>> {
  return from(
    (async () => {
      const headers: Record<string, string> = { Accept: 'application/json', ...(options.headers ?? {}) };
      let body: string | undefined;
      if (options.data !== undefined && options.method && options.method !== 'GET') {
        body = typeof options.data === 'string' ? options.data : JSON.stringify(options.data);
        headers['Content-Type'] = headers['Content-Type'] ?? 'application/json';
      }
      const res = await window.fetch(options.url, { method: options.method ?? 'GET', headers, body });
      const text = await res.text();
      let data: unknown = text;
      try {
        data = text ? JSON.parse(text) : undefined;
      } catch {
        // not JSON: keep the text, as Grafana does
      }
      if (!res.ok) {
        const err: FetchError = { status: res.status, statusText: res.statusText, data, config: options };
        throw err;
      }
      return {
        data: data as T,
        status: res.status,
        statusText: res.statusText,
        ok: res.ok,
        headers: res.headers,
        redirected: res.redirected,
        type: res.type,
        url: res.url,
        config: options,
      };
    })()
  );
}

// Grafana core registers its option editors at start-up (app/core/components/OptionsUI/registry); a panel's
// option builder looks them up by id. These are the ones this panel uses, built from @grafana/ui.
const numberEditor = ({ value, onChange }: StandardEditorProps<number>) => (
  <Input
    type="number"
    value={value ?? ''}
    onChange={(e) => onChange(e.currentTarget.value === '' ? undefined : Number(e.currentTarget.value))}
  />
);
standardEditorsRegistry.setInit(() => [
  { id: 'number', name: 'Number', editor: numberEditor },
  { id: 'slider', name: 'Slider', editor: numberEditor },
  {
    id: 'radio',
    name: 'Radio',
    editor: ({ value, onChange, item }: StandardEditorProps<unknown>) => (
      <RadioButtonGroup value={value} onChange={onChange} options={item.settings?.options ?? []} />
    ),
  },
  {
    id: 'select',
    name: 'Select',
    editor: ({ value, onChange, item }: StandardEditorProps<unknown>) => (
      <Select value={value} onChange={(v) => onChange(v.value)} options={item.settings?.options ?? []} />
    ),
  },
  {
    id: 'text',
    name: 'Text',
    editor: ({ value, onChange }: StandardEditorProps<string>) => (
      <Input value={value ?? ''} onChange={(e) => onChange(e.currentTarget.value)} />
    ),
  },
  {
    id: 'boolean',
    name: 'Boolean',
    editor: ({ value, onChange }: StandardEditorProps<boolean>) => (
      <Switch value={Boolean(value)} onChange={(e) => onChange(e.currentTarget.checked)} />
    ),
  },
]);

const backendSrv = {
  fetch: fetchObservable,
  request: <T,>(options: BackendSrvRequest) => lastValueFrom(fetchObservable<T>(options)).then((r) => r.data),
  datasourceRequest: <T,>(options: BackendSrvRequest) => lastValueFrom(fetchObservable<T>(options)),
  get: <T,>(url: string) => lastValueFrom(fetchObservable<T>({ url })).then((r) => r.data),
  post: <T,>(url: string, data?: unknown) =>
    lastValueFrom(fetchObservable<T>({ url, method: 'POST', data })).then((r) => r.data),
};
setBackendSrv(backendSrv as unknown as BackendSrv);

interface Variable {
  value: string | string[];
  multi?: boolean;
  includeAll?: boolean;
}

/** Dashboard variables: $name, ${name} and [[name]], each value passed through the caller's formatter. */
function makeTemplateSrv(vars: Record<string, Variable>): TemplateSrv {
  const pattern = /\$(\w+)|\$\{(\w+)\}|\[\[(\w+)\]\]/g;
  return {
    getVariables: () => [],
    containsTemplate: (target?: string) => Boolean(target && new RegExp(pattern.source).test(target)),
    updateTimeRange: () => {},
    replace: (target?: string, scopedVars?: ScopedVars, format?: Parameters<TemplateSrv['replace']>[2]) =>
      (target ?? '').replace(pattern, (match, a, b, c) => {
        const name = a ?? b ?? c;
        const scoped = scopedVars?.[name];
        const variable: Variable | undefined = scoped ? { value: scoped.value } : vars[name];
        if (!variable) {
          return match;
        }
        if (typeof format === 'function') {
          return format(variable.value, variable);
        }
        return Array.isArray(variable.value) ? variable.value.join(',') : String(variable.value);
      }),
  };
}

export interface RunParams {
  pluginBase: string;
  datasourceUid: string;
  backendUrl: string;
  role: 'Viewer' | 'Editor' | 'Admin';
  theme: 'dark' | 'light';
  variables: Record<string, Variable>;
  query: Record<string, unknown>;
  /** More queries after `query` (refIds B, C, …), as a panel with several queries sends them. */
  moreQueries?: Array<Record<string, unknown>>;
  /** The dashboard's graph tooltip setting (shared crosshair / tooltip); default off. */
  cursorSync?: DashboardCursorSync;
  /** How many copies of the panel the dashboard holds, side by side (default 1). */
  copies?: number;
  from: number;
  to: number;
  width: number;
  height: number;
  panelOptions?: Record<string, unknown>;
}

export interface RunResult {
  appPlugin: boolean;
  health: { status: string; message: string };
  frames: Array<{ name?: string; kind?: string; length: number }>;
  errors: string[];
}

let root: reactDomClient.Root | undefined;

const HIDE_SERIES_REF = 'hideSeriesFrom';

/**
 * Grafana's seriesVisibilityConfigFactory (public/app/core/components/GraphNG/...) for a legend click: a plain
 * click shows only that series (again: all of them), ctrl/cmd-click adds or removes it from the shown ones.
 * The override hides the other series' fields from the chart by display name.
 */
function toggleSeriesVisibility(
  fc: FieldConfigSource,
  label: string,
  /** @grafana/ui's SeriesVisibilityChangeMode (not exported): 'select' or 'append'. */
  mode: string
): FieldConfigSource {
  const others = fc.overrides.filter((o) => (o as { __systemRef?: string }).__systemRef !== HIDE_SERIES_REF);
  const current = fc.overrides.find((o) => (o as { __systemRef?: string }).__systemRef === HIDE_SERIES_REF);
  const shown: string[] = current?.matcher.options?.names ?? [];
  let names: string[];
  if (mode === 'append' && current) {
    names = shown.includes(label) ? shown.filter((n) => n !== label) : [...shown, label];
  } else {
    names = shown.length === 1 && shown[0] === label ? [] : [label];
  }
  if (names.length === 0) {
    return { ...fc, overrides: others };
  }
  const override = {
    __systemRef: HIDE_SERIES_REF,
    matcher: {
      id: FieldMatcherID.byNames,
      options: { mode: ByNamesMatcherMode.exclude, names, prefix: 'All except:', readOnly: true },
    },
    properties: [{ id: 'custom.hideFrom', value: { viz: true, legend: false, tooltip: false } }],
  };
  return { ...fc, overrides: [...others, override] };
}

/** What the panel asked of the dashboard through onChangeTimeRange, in order. */
const timeRangeChanges: Array<{ from: number; to: number }> = [];

async function run(params: RunParams): Promise<RunResult> {
  config.bootData.user = {
    ...config.bootData.user,
    orgRole: params.role as grafanaData.OrgRole,
    isGrafanaAdmin: false,
  };
  setTemplateSrv(makeTemplateSrv(params.variables));

  const [appModule, dsModule, panelModule] = await Promise.all([
    System.import(`${params.pluginBase}/module.js`),
    System.import(`${params.pluginBase}/datasource/module.js`),
    System.import(`${params.pluginBase}/panel/module.js`),
  ]);
  const appPlugin = appModule.plugin;
  const dsPlugin = dsModule.plugin as DataSourcePlugin<grafanaData.DataSourceApi>;
  const panelPlugin = panelModule.plugin as PanelPlugin;
  if (!(dsPlugin instanceof DataSourcePlugin) || !(panelPlugin instanceof PanelPlugin)) {
    throw new Error('module.js did not export `plugin` built with the shared @grafana/data');
  }

  const dsMeta = await (await window.fetch(`${params.pluginBase}/datasource/plugin.json`)).json();
  const instanceSettings = {
    id: 1,
    uid: params.datasourceUid,
    type: dsMeta.id,
    name: 'Prescaler',
    meta: dsMeta,
    url: `/api/datasources/proxy/uid/${params.datasourceUid}`,
    access: 'proxy',
    jsonData: { backendUrl: params.backendUrl },
    readOnly: false,
  } as unknown as DataSourceInstanceSettings;
  const ds = new dsPlugin.DataSourceClass(instanceSettings);
  const health = (await ds.testDatasource()) as { status: string; message: string };

  const range = { from: dateTime(params.from), to: dateTime(params.to), raw: { from: 'now-24h', to: 'now' } };
  const request = {
    requestId: 'e2e',
    app: 'dashboard',
    range,
    interval: '10m',
    intervalMs: 600_000,
    targets: [params.query, ...(params.moreQueries ?? [])].map((q, i) => ({
      refId: String.fromCharCode(65 + i),
      ...q,
    })),
    scopedVars: {},
    timezone: 'utc',
    startTime: Date.now(),
  } as unknown as DataQueryRequest;
  const result = ds.query(request);
  const response: DataQueryResponse = isObservable(result) ? await lastValueFrom(result) : await result;

  const theme = createTheme({ colors: { mode: params.theme } });
  const replaceVariables = (value: string) => makeTemplateSrv(params.variables).replace(value);
  // Grafana applies field config before a panel sees the frames; do the same so the panel gets what it would.
  const withFieldConfig = (fieldConfig: FieldConfigSource): DataFrame[] =>
    applyFieldOverrides({
      data: response.data as DataFrame[],
      fieldConfig,
      fieldConfigRegistry: panelPlugin.fieldConfigRegistry,
      replaceVariables,
      theme,
      timeZone: 'utc',
    });
  const series = withFieldConfig(panelPlugin.fieldConfigDefaults);

  const Panel = panelPlugin.panel as react.ComponentType<PanelProps>;
  // The dashboard's bus, which every panel's scoped bus publishes to.
  const eventBus = new grafanaData.EventBusSrv();
  const props: PanelProps = {
    id: 1,
    data: { series, state: LoadingState.Done, timeRange: range, errors: response.errors },
    timeRange: range,
    timeZone: 'utc',
    options: { ...panelPlugin.defaults, ...(params.panelOptions ?? {}) },
    fieldConfig: panelPlugin.fieldConfigDefaults,
    transparent: false,
    width: params.width,
    height: params.height,
    title: 'Forecast',
    renderCounter: 1,
    replaceVariables,
    onOptionsChange: () => {},
    onFieldConfigChange: () => {},
    onChangeTimeRange: (r) => timeRangeChanges.push({ from: r.from, to: r.to }),
    eventBus,
  };

  /** One panel as Grafana's PanelStateWrapper hosts it: its field config in state, and the panel context. */
  function PanelHost({ id }: { id: number }) {
    const [fieldConfig, setFieldConfig] = react.useState(panelPlugin.fieldConfigDefaults);
    const data = react.useMemo(
      () => ({
        ...props.data,
        series: id === 1 && fieldConfig === props.fieldConfig ? series : withFieldConfig(fieldConfig),
      }),
      [fieldConfig, id]
    );
    const context = react.useMemo(
      () => ({
        eventsScope: '__global_',
        eventBus,
        sync: () => params.cursorSync ?? DashboardCursorSync.Off,
        // A legend click: Grafana's seriesVisibilityConfigFactory writes an override into the field config.
        onToggleSeriesVisibility: (label: string, mode: string) =>
          setFieldConfig((fc) => toggleSeriesVisibility(fc, label, mode)),
      }),
      []
    );
    return (
      <PanelContextProvider value={context}>
        <Panel {...props} id={id} data={data} fieldConfig={fieldConfig} />
      </PanelContextProvider>
    );
  }

  const copies = params.copies ?? 1;
  const container = document.getElementById('root')!;
  root?.unmount();
  root = reactDomClient.createRoot(container);
  root.render(
    <ThemeContext.Provider value={theme}>
      <GlobalStyles />
      <div id="panel" style={{ display: 'flex', gap: 16, padding: 8, width: 'max-content' }}>
        {Array.from({ length: copies }, (_, i) => (
          <div key={i} data-panel-copy={i} style={{ width: params.width, height: params.height }}>
            <PanelHost id={i + 1} />
          </div>
        ))}
      </div>
    </ThemeContext.Provider>
  );

  return {
    appPlugin: appPlugin instanceof AppPlugin,
    health,
    frames: series.map((f) => ({ name: f.name, kind: f.meta?.custom?.prescaler?.kind, length: f.length })),
    errors: (response.errors ?? []).map((e) => e.message ?? String(e)),
  };
}

export interface AppRunParams {
  pluginBase: string;
  backendUrl: string;
  role: 'Viewer' | 'Editor' | 'Admin';
  theme: 'dark' | 'light';
  width: number;
}

/** The app's root page as Grafana mounts it at /a/<app id>: AppRootProps with the app's settings as meta. */
async function runApp(params: AppRunParams): Promise<{ root: boolean }> {
  config.bootData.user = {
    ...config.bootData.user,
    orgRole: params.role as grafanaData.OrgRole,
    isGrafanaAdmin: false,
  };
  const appModule = await System.import(`${params.pluginBase}/module.js`);
  const appPlugin = appModule.plugin as AppPlugin;
  if (!(appPlugin instanceof AppPlugin)) {
    throw new Error('module.js did not export `plugin` built with the shared @grafana/data');
  }
  const Root = appPlugin.root;
  if (!Root) {
    return { root: false };
  }
  const meta = await (await window.fetch(`${params.pluginBase}/plugin.json`)).json();
  const appMeta = {
    ...meta,
    enabled: true,
    pinned: true,
    baseUrl: params.pluginBase,
    module: `${params.pluginBase}/module.js`,
    jsonData: { backendUrl: params.backendUrl },
    // Grafana tells the browser only that a secret is set, never the secret.
    secureJsonFields: { token: true },
  } as grafanaData.AppPluginMeta;
  appPlugin.init(appMeta);
  const basename = `/a/${meta.id}`;

  const container = document.getElementById('root')!;
  root?.unmount();
  root = reactDomClient.createRoot(container);
  root.render(
    <ThemeContext.Provider value={createTheme({ colors: { mode: params.theme } })}>
      <GlobalStyles />
      <div id="app" style={{ width: params.width, padding: 16, boxSizing: 'border-box' }}>
        <Root meta={appMeta} basename={basename} path={basename} query={{}} onNavChanged={() => {}} />
      </div>
    </ThemeContext.Provider>
  );
  return { root: true };
}

/** What the page really runs: React's own version string and the bundled @grafana/* package versions. */
function versions() {
  return { ...__PACKAGE_SET__, react: react.version, reactDom: reactDom.version };
}

(window as unknown as { prescalerHarness: unknown }).prescalerHarness = {
  run,
  runApp,
  versions,
  timeRangeChanges: () => [...timeRangeChanges],
};
