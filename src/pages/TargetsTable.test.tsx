import { render, screen } from '@testing-library/react';

import { isAnomalous, TargetsTable } from './TargetsTable';
import { targets } from './fixtures';

describe('isAnomalous', () => {
  it('is the detector threshold the evaluation carries, inclusive, and nothing without one', () => {
    expect(isAnomalous(0.8, 0.8)).toBe(true);
    expect(isAnomalous(0.79, 0.8)).toBe(false);
    expect(isAnomalous(0.95, undefined)).toBe(false);
    expect(isAnomalous(null, 0.5)).toBe(false);
  });
});

describe('TargetsTable', () => {
  it("marks a score at its evaluation's threshold, not at a number of the app's own", () => {
    const [t] = targets;
    const ev = t.lastEvaluation!;
    const at = (anomalyScore: number, anomalyThreshold: number) => {
      const { unmount } = render(
        <TargetsTable
          targets={[{ ...t, lastEvaluation: { ...ev, anomalyScore, anomalyThreshold } }]}
          formatTime={String}
        />
      );
      const cell = screen.getByText(anomalyScore.toFixed(2));
      const cls = cell.className;
      unmount();
      return cls;
    };
    // 0.75 is over the old fixed 0.7, under this detector's 0.8: not marked; 0.85 is.
    expect(at(0.75, 0.8)).toBe(at(0.1, 0.8));
    expect(at(0.85, 0.8)).not.toBe(at(0.1, 0.8));
  });
});
