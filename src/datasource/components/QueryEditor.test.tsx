import { fireEvent, render, screen } from '@testing-library/react';

import { DataSource } from '../datasource';
import { PrescalerQuery } from '../types';
import { QueryEditor } from './QueryEditor';

function setup(query: Partial<PrescalerQuery> = {}) {
  const onChange = jest.fn();
  const onRunQuery = jest.fn();
  const q: PrescalerQuery = { refId: 'A', expr: 'demo_cpu_usage{deployment="web"}', ...query };
  render(<QueryEditor query={q} onChange={onChange} onRunQuery={onRunQuery} datasource={{} as DataSource} />);
  return { onChange, onRunQuery, q };
}

describe('QueryEditor', () => {
  it('edits the PromQL and runs it on blur', () => {
    const { onChange, onRunQuery, q } = setup();
    const expr = screen.getByLabelText('PromQL');
    fireEvent.change(expr, { target: { value: 'sum(rate(x[5m]))' } });
    expect(onChange).toHaveBeenCalledWith({ ...q, expr: 'sum(rate(x[5m]))' });
    fireEvent.blur(expr);
    expect(onRunQuery).toHaveBeenCalled();
  });

  it('edits step and horizon', () => {
    const { onChange, q } = setup();
    fireEvent.change(screen.getByLabelText('Step'), { target: { value: '5m' } });
    fireEvent.change(screen.getByLabelText('Horizon'), { target: { value: '30m' } });
    expect(onChange).toHaveBeenNthCalledWith(1, { ...q, step: '5m' });
    expect(onChange).toHaveBeenNthCalledWith(2, { ...q, horizon: '30m' });
  });

  it('toggles which frames are returned, keeping their canonical order, and reruns', () => {
    const { onChange, onRunQuery } = setup({ frames: ['forecast'] });
    fireEvent.click(screen.getByLabelText('Anomaly score'));
    fireEvent.click(screen.getByLabelText('Actual'));
    expect(onChange.mock.calls[0][0].frames).toEqual(['forecast', 'score']);
    expect(onChange.mock.calls[1][0].frames).toEqual(['actual', 'forecast']);
    expect(onRunQuery).toHaveBeenCalledTimes(2);
  });

  it('shows the default frames for a new query', () => {
    setup({ frames: undefined });
    expect(screen.getByLabelText('Forecast band')).toBeChecked();
    expect(screen.getByLabelText('Anomaly score')).not.toBeChecked();
  });
});
