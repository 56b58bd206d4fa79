// The plugin.json files are a contract with Grafana: ids, nesting and the proxy routes' security.
import app from './plugin.json';
import datasource from './datasource/plugin.json';
import panel from './panel/plugin.json';
import { APP_ID, DATASOURCE_ID, PANEL_ID } from './shared/contract';

describe('plugin.json', () => {
  it('has the ids the rest of the code uses', () => {
    expect([app.id, datasource.id, panel.id]).toEqual([APP_ID, DATASOURCE_ID, PANEL_ID]);
    expect([app.type, datasource.type, panel.type]).toEqual(['app', 'datasource', 'panel']);
  });

  it('lists both nested plugins in the app includes, by their names and paths', () => {
    expect(app.includes).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          type: 'datasource',
          name: datasource.name,
          path: 'datasource/plugin.json',
        }),
        expect.objectContaining({ type: 'panel', name: panel.name, path: 'panel/plugin.json' }),
      ])
    );
  });

  it('lets only editors reach the apply route, which carries the token server-side', () => {
    const apply = app.routes.find((r) => r.method === 'POST');
    expect(apply).toMatchObject({ path: 'api/recommendations/*', reqRole: 'Editor' });
    expect(apply?.headers).toEqual([
      { name: 'Authorization', content: 'Bearer {{ .SecureJsonData.token }}' },
    ]);
    // No route may let a POST through without Editor, but the what-if's: a read the backend serves to
    // viewers (one replay at a time, a short queue, 429 past it).
    const viewerPosts = app.routes.filter((r) => r.method !== 'GET' && r.reqRole !== 'Editor');
    expect(viewerPosts).toEqual([
      {
        path: 'api/whatif',
        method: 'POST',
        reqRole: 'Viewer',
        url: '{{ .JsonData.backendUrl }}/api/whatif',
        headers: [{ name: 'Authorization', content: 'Bearer {{ .SecureJsonData.token }}' }],
      },
    ]);
  });

  it('gives the data source exactly the three calls it makes, for any org role, with its (viewer) token', () => {
    const header = [{ name: 'Authorization', content: 'Bearer {{ .SecureJsonData.token }}' }];
    expect(datasource.routes).toEqual([
      {
        path: 'backend/api/forecast',
        method: 'POST',
        reqRole: 'Viewer',
        url: '{{ .JsonData.backendUrl }}/api/forecast',
        headers: header,
      },
      {
        path: 'backend/api/anomalies',
        method: 'POST',
        reqRole: 'Viewer',
        url: '{{ .JsonData.backendUrl }}/api/anomalies',
        headers: header,
      },
      {
        path: 'backend/api/health',
        method: 'GET',
        reqRole: 'Viewer',
        url: '{{ .JsonData.backendUrl }}/api/health',
        headers: header,
      },
    ]);
    // Grafana matches an empty method to every verb and a route path as a plain prefix: neither may be left
    // open, or a Viewer reaches apply through the data source (issue 21).
    for (const r of datasource.routes) {
      expect(r.method).toMatch(/^(GET|POST)$/);
      expect(r.url.endsWith(r.path.replace(/^backend/, ''))).toBe(true);
    }
  });
});
