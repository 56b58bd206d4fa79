import { fireEvent, render, screen } from '@testing-library/react';
import { DataSourceSettings } from '@grafana/data';

import { PrescalerJsonData, PrescalerSecureJsonData } from '../types';
import { ConfigEditor } from './ConfigEditor';

function options(over: Partial<DataSourceSettings<PrescalerJsonData, PrescalerSecureJsonData>> = {}) {
  return {
    id: 1,
    uid: 'u',
    orgId: 1,
    name: 'Prescaler',
    type: 'prescaler-forecast-datasource',
    typeName: '',
    typeLogoUrl: '',
    access: 'proxy',
    url: '',
    user: '',
    database: '',
    basicAuth: false,
    basicAuthUser: '',
    isDefault: false,
    withCredentials: false,
    readOnly: false,
    jsonData: { backendUrl: 'http://old:8080' },
    secureJsonFields: {},
    ...over,
  } as DataSourceSettings<PrescalerJsonData, PrescalerSecureJsonData>;
}

describe('ConfigEditor', () => {
  it('stores the backend URL in jsonData and forces proxy access', () => {
    const onOptionsChange = jest.fn();
    render(<ConfigEditor options={options()} onOptionsChange={onOptionsChange} />);
    fireEvent.change(screen.getByDisplayValue('http://old:8080'), {
      target: { value: ' http://prescaler:8080 ' },
    });
    expect(onOptionsChange).toHaveBeenCalledWith(
      expect.objectContaining({ access: 'proxy', jsonData: { backendUrl: 'http://prescaler:8080' } })
    );
  });

  it('puts the token in secureJsonData only', () => {
    const onOptionsChange = jest.fn();
    render(<ConfigEditor options={options()} onOptionsChange={onOptionsChange} />);
    fireEvent.change(screen.getByPlaceholderText('token'), { target: { value: 's3cret-token-0123456789' } });
    const next = onOptionsChange.mock.calls[0][0];
    expect(next.secureJsonData).toEqual({ token: 's3cret-token-0123456789' });
    expect(JSON.stringify(next.jsonData)).not.toContain('s3cret');
  });

  it('shows a stored token as configured and resets it', () => {
    const onOptionsChange = jest.fn();
    render(
      <ConfigEditor
        options={options({ secureJsonFields: { token: true } })}
        onOptionsChange={onOptionsChange}
      />
    );
    fireEvent.click(screen.getByRole('button', { name: 'Reset' }));
    expect(onOptionsChange.mock.calls[0][0]).toMatchObject({
      secureJsonFields: { token: false },
      secureJsonData: { token: '' },
    });
  });
});
