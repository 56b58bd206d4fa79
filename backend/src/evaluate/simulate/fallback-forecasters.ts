/**
 * Simple, honest BatchForecasters for the simulation when no trained LSTM is at hand: persistence and
 * daily seasonal-naive, each with an empirical prediction band from its own errors inside the window
 * (no fitting on anything but the window, so no leak).
 */
import type { BatchForecaster, HistoryWindow, QuantileForecast } from '../../forecast/types';

export interface BandOptions {
  step?: number;
  horizons?: number;
  /** Nominal coverage of the band, e.g. 0.9 → 5 % and 95 % residual quantiles. */
  coverage?: number;
}

function quantile(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return 0;
  const pos = q * (sorted.length - 1);
  const lo = Math.floor(pos);
  const hi = Math.min(sorted.length - 1, lo + 1);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

function defaults(o: BandOptions): Required<BandOptions> {
  const coverage = o.coverage ?? 0.9;
  if (!(coverage > 0 && coverage < 1)) throw new RangeError(`coverage must be in (0, 1), got ${coverage}`);
  return { step: o.step ?? 600, horizons: o.horizons ?? 6, coverage };
}

/** Last value; band from the window's own h-step changes. Needs one day of history. */
export function persistenceForecaster(o: BandOptions = {}): BatchForecaster {
  const { step, horizons, coverage } = defaults(o);
  const day = Math.round(86400 / step);
  const qLo = (1 - coverage) / 2;
  return {
    name: 'persistence',
    step,
    horizons,
    minHistory: day,
    async predictBatch(windows: HistoryWindow[]): Promise<QuantileForecast[]> {
      return windows.map((w) => {
        const v = w.values;
        const n = v.length;
        const last = v[n - 1];
        const f: QuantileForecast = { mean: [], lower: [], upper: [] };
        for (let h = 1; h <= horizons; h++) {
          const m = Math.max(0, n - h);
          const res = new Float64Array(m);
          for (let i = 0; i < m; i++) res[i] = v[i + h] - v[i];
          res.sort();
          f.mean.push(last);
          f.lower.push(last + quantile(res, qLo));
          f.upper.push(last + quantile(res, 1 - qLo));
        }
        return f;
      });
    },
  };
}

/** Value one day earlier; band from the window's own day-over-day changes. Needs two days of history. */
export function seasonalForecaster(o: BandOptions = {}): BatchForecaster {
  const { step, horizons, coverage } = defaults(o);
  const day = Math.round(86400 / step);
  if (horizons > day) throw new RangeError('seasonal forecaster: horizons beyond one day are not supported');
  const qLo = (1 - coverage) / 2;
  return {
    name: 'seasonal_naive',
    step,
    horizons,
    minHistory: 2 * day,
    async predictBatch(windows: HistoryWindow[]): Promise<QuantileForecast[]> {
      return windows.map((w) => {
        const v = w.values;
        const n = v.length;
        const res = new Float64Array(n - day);
        for (let i = day; i < n; i++) res[i - day] = v[i] - v[i - day];
        res.sort();
        const lo = quantile(res, qLo);
        const hi = quantile(res, 1 - qLo);
        const f: QuantileForecast = { mean: [], lower: [], upper: [] };
        for (let h = 1; h <= horizons; h++) {
          const m = v[n - 1 - day + h];
          f.mean.push(m);
          f.lower.push(m + lo);
          f.upper.push(m + hi);
        }
        return f;
      });
    },
  };
}
