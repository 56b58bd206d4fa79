import { act, fireEvent, render, screen, within } from '@testing-library/react';
import { BackendSrvRequest } from '@grafana/runtime';
import { Observable } from 'rxjs';

import { WhatifComparison, WhatifAnswer } from '../shared/contract';
import { fail, mockBackendSrv, ok } from '../test-utils/backendSrv';
import { webWhatif } from './fixtures';
import { comparisonSentence, formatHours, WhatifCost } from './WhatifCost';

const WHATIF_URL = 'api/plugin-proxy/prescaler-autoscaling-app/api/whatif';
const target = (req: BackendSrvRequest) => (req.data as { target: string }).target;

/** The demo backend's answer with the default comparison changed. */
function withDefault(patch: Partial<WhatifComparison>): WhatifAnswer {
  return {
    ...webWhatif,
    comparison: { ...webWhatif.comparison, default: { ...webWhatif.comparison.default, ...patch } },
  };
}

describe('WhatifCost', () => {
  it('says the comparison in one sentence, with a bar chart and what it was measured on', async () => {
    const fetch = mockBackendSrv((req) => ok(webWhatif, req));
    render(<WhatifCost targets={['web']} />);
    const web = screen.getByTestId('prescaler-whatif-web');
    expect(await within(web).findByTestId('prescaler-whatif-sentence')).toHaveTextContent(
      'At equal violations (≤ 0.0 min on the validation slice), Prescaler would have run 229 replica-hours ' +
        'where HPA at 70 % ran 282: 19 % less (95 % interval 18–19 %); an oracle needs 209.'
    );
    expect(screen.getByTestId('prescaler-whatif-detail')).toHaveTextContent(
      'Measured on the last 33.6 h of the range (its test slice); the Prescaler setting was chosen on the ' +
        '16.8 h before it. Violation minutes on the test slice: HPA 1.3, Prescaler 12.5. Against an HPA ' +
        'tuned to the 2.0 min budget (target 85 %): 0 % less.'
    );
    // Bars on one scale: HPA's is the longest, the others in proportion.
    const bars = screen.getByTestId('prescaler-whatif-chart').querySelectorAll('rect');
    const widths = Array.from(bars).map((b) => Number(b.getAttribute('width')));
    expect(widths[0]).toBe(160);
    expect(widths[1]).toBeCloseTo((160 * 228.954) / 281.875, 1);
    expect(widths[2]).toBeCloseTo((160 * 208.646) / 281.875, 1);
    expect(fetch.mock.calls.map((c) => c[0])).toEqual([
      { url: WHATIF_URL, method: 'POST', data: { target: 'web' }, showErrorAlert: false },
    ]);
  });

  it('asks for one target after another, saying which waits and which replays', async () => {
    const pending: Record<string, (r: WhatifAnswer) => void> = {};
    const fetch = mockBackendSrv(
      (req) =>
        new Observable((sub) => {
          pending[target(req)] = (r) => ok(r, req).subscribe(sub);
        }) as ReturnType<typeof ok>
    );
    render(<WhatifCost targets={['web', 'api']} />);
    expect(
      within(screen.getByTestId('prescaler-whatif-web')).getByText('Replaying the last 7 days…')
    ).toBeInTheDocument();
    expect(
      within(screen.getByTestId('prescaler-whatif-api')).getByText('Waiting for the targets before it…')
    ).toBeInTheDocument();
    expect(fetch).toHaveBeenCalledTimes(1);
    await act(async () => pending.web(webWhatif));
    expect(screen.getByTestId('prescaler-whatif-sentence')).toBeInTheDocument();
    expect(fetch).toHaveBeenCalledTimes(2);
    expect(target(fetch.mock.calls[1][0])).toBe('api');
    expect(
      within(screen.getByTestId('prescaler-whatif-api')).getByText('Replaying the last 7 days…')
    ).toBeInTheDocument();
  });

  it('says too little history in the backend’s words, without a Retry', async () => {
    const message =
      "the target's history in the range spans 12.0 h; the comparison at equal violations needs at least 24 h";
    mockBackendSrv(() => fail(422, { error: { code: 'insufficient_history', message } }));
    render(<WhatifCost targets={['web']} />);
    expect(await screen.findByText('Too little history to compare')).toBeInTheDocument();
    expect(screen.getByTestId('prescaler-whatif-error')).toHaveTextContent(message);
    expect(screen.queryByRole('button', { name: /Retry/ })).not.toBeInTheDocument();
  });

  it('shows a failure with what to check, and Retry asks again', async () => {
    let calls = 0;
    const fetch = mockBackendSrv((req) =>
      ++calls === 1
        ? fail(504, { error: { code: 'upstream_timeout', message: 'Prometheus did not answer in 10 s' } })
        : ok(webWhatif, req)
    );
    render(<WhatifCost targets={['web']} />);
    expect(await screen.findByText('Could not replay the last 7 days')).toBeInTheDocument();
    expect(screen.getByTestId('prescaler-whatif-error')).toHaveTextContent(
      '504 upstream_timeout: Prometheus did not answer in 10 s'
    );
    expect(
      screen.getByText('The backend, or the Prometheus behind it, did not answer in time.')
    ).toBeInTheDocument();
    fireEvent.click(screen.getByRole('button', { name: /Retry/ }));
    expect(await screen.findByTestId('prescaler-whatif-sentence')).toBeInTheDocument();
    expect(fetch).toHaveBeenCalledTimes(2);
  });

  it('says the backend is busy on 429', async () => {
    mockBackendSrv(() =>
      fail(429, { error: { code: 'rate_limited', message: 'a what-if simulation is already running' } })
    );
    render(<WhatifCost targets={['web']} />);
    expect(await screen.findByText('The backend is busy with other what-ifs')).toBeInTheDocument();
    expect(screen.getByText('Retry in a few seconds.')).toBeInTheDocument();
    expect(screen.getByRole('button', { name: /Retry/ })).toBeInTheDocument();
  });

  it('says when there is nothing to replay, without asking', () => {
    const fetch = mockBackendSrv(() => {
      throw new Error('no request expected');
    });
    render(<WhatifCost targets={[]} />);
    expect(screen.getByTestId('prescaler-whatif-empty')).toHaveTextContent(
      'No scaling targets are configured'
    );
    expect(fetch).not.toHaveBeenCalled();
  });

  it('says when the answer has no comparison (an older backend) or no figures', async () => {
    const { comparison: _c, ...older } = webWhatif;
    mockBackendSrv((req) =>
      target(req) === 'old'
        ? ok(older, req)
        : ok(withDefault({ hpa: { ...webWhatif.comparison.default.hpa, replicaHours: null } }), req)
    );
    render(<WhatifCost targets={['old', 'blank']} />);
    expect(
      await within(screen.getByTestId('prescaler-whatif-old')).findByTestId('prescaler-whatif-none')
    ).toHaveTextContent('The backend answered without a comparison: it is older than this app; update it.');
    expect(
      await within(screen.getByTestId('prescaler-whatif-blank')).findByTestId('prescaler-whatif-none')
    ).toHaveTextContent('The replay gave no figures to compare');
  });
});

describe('comparisonSentence', () => {
  const base = webWhatif.comparison.default;
  it('says "more" and the interval of the saving where Prescaler costs more', () => {
    expect(
      comparisonSentence({
        ...base,
        prescaler: { ...base.prescaler, replicaHours: 310 },
        saving: 1 - 310 / 281.875,
        savingCi95: [-0.15, -0.05],
        chosenOn: { ...base.chosenOn, violationLimit: 3.25 },
      })
    ).toBe(
      'At equal violations (≤ 3.3 min on the validation slice), Prescaler would have run 310 replica-hours ' +
        'where HPA at 70 % ran 282: 10 % more (95 % interval of the saving: −15 % to −5 %); an oracle needs 209.'
    );
  });
  it('leaves out what the backend could not compute', () => {
    expect(
      comparisonSentence({
        ...base,
        savingCi95: [null, null],
        oracle: { ...base.oracle, replicaHours: null },
        chosenOn: { ...base.chosenOn, violationLimit: null },
      })
    ).toBe(
      'At equal violations, Prescaler would have run 229 replica-hours where HPA at 70 % ran 282: 19 % less.'
    );
    expect(comparisonSentence({ ...base, hpa: { ...base.hpa, replicaHours: 0 } })).toBeUndefined();
    expect(comparisonSentence({ ...base, saving: null })).toBeUndefined();
  });
  it('says hours as days from 36 h up', () => {
    expect(formatHours(33.6)).toBe('33.6 h');
    expect(formatHours(36)).toBe('1.5 days');
  });
});
