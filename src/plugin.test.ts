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
    // No route may let a POST through without Editor.
    expect(app.routes.filter((r) => r.method !== 'GET').every((r) => r.reqRole === 'Editor')).toBe(true);
  });

  it('gives the data source a proxy route with the token from secureJsonData', () => {
    expect(datasource.routes).toEqual([
      {
        path: 'backend',
        url: '{{ .JsonData.backendUrl }}',
        headers: [{ name: 'Authorization', content: 'Bearer {{ .SecureJsonData.token }}' }],
      },
    ]);
  });
});
