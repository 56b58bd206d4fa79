/** A self-contained HTML report of a simulation: the summary table and, per policy, demand vs ready capacity. */
import type { SimulationResult } from './simulate';

export const COLORS: Record<string, string> = { hpa: '#d62728', prescaler: '#1f77b4', oracle: '#2ca02c' };

function esc(s: string): string {
  return s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);
}

function fmt(x: number, digits = 2): string {
  return Number.isFinite(x) ? x.toFixed(digits) : String(x);
}

interface Series {
  t: number[];
  demandMax: number[];
  readyMin: number[];
}

/**
 * Buckets the evaluated ticks of every segment to at most `width` columns, keeping each bucket's highest
 * demand and lowest ready capacity, so no shortfall is averaged away.
 */
function bucketed(sim: SimulationResult, policyIndex: number, capacity: number, width: number): Series {
  const out: Series = { t: [], demandMax: [], readyMin: [] };
  const traces = sim.traces ?? [];
  const total = traces.reduce((a, s) => a + (s.demand.length - s.from), 0);
  const per = Math.max(1, Math.ceil(total / width));
  for (const seg of traces) {
    const pt = seg.policies[policyIndex];
    // NaN marks a gap between segments: the lines break there instead of bridging it.
    if (out.t.length) {
      out.t.push(seg.start + seg.from * seg.tick);
      out.demandMax.push(NaN);
      out.readyMin.push(NaN);
    }
    for (let k = seg.from; k < seg.demand.length; k += per) {
      let d = -Infinity;
      let r = Infinity;
      for (let j = k; j < Math.min(seg.demand.length, k + per); j++) {
        d = Math.max(d, seg.demand[j]);
        r = Math.min(r, pt.ready[j] * capacity);
      }
      out.t.push(seg.start + k * seg.tick);
      out.demandMax.push(d);
      out.readyMin.push(r);
    }
  }
  return out;
}

function plot(title: string, s: Series, color: string, yMax: number): string {
  const W = 1100;
  const Hh = 220;
  const pad = 40;
  if (s.t.length === 0) return `<p>${esc(title)}: no evaluated ticks</p>`;
  const t0 = s.t[0];
  const t1 = s.t[s.t.length - 1] || t0 + 1;
  const x = (t: number) => pad + ((t - t0) / Math.max(1, t1 - t0)) * (W - 2 * pad);
  const y = (v: number) => Hh - pad / 2 - (v / yMax) * (Hh - pad);
  const path = (vals: number[]) => {
    let d = '';
    let pen = false;
    vals.forEach((v, i) => {
      if (Number.isNaN(v)) pen = false;
      else {
        d += `${pen ? 'L' : 'M'}${x(s.t[i]).toFixed(1)},${y(v).toFixed(1)}`;
        pen = true;
      }
    });
    return d;
  };
  const days: string[] = [];
  for (let d = Math.ceil(t0 / 86400) * 86400; d <= t1; d += 86400) {
    days.push(`<line x1="${x(d)}" x2="${x(d)}" y1="${pad / 2}" y2="${Hh - pad / 2}" stroke="#eee"/>`);
  }
  return `<h3>${esc(title)}</h3>
<svg width="${W}" height="${Hh}" viewBox="0 0 ${W} ${Hh}" xmlns="http://www.w3.org/2000/svg">
${days.join('')}
<text x="4" y="${y(yMax) + 4}" font-size="10">${fmt(yMax, 0)}</text><text x="4" y="${y(0)}" font-size="10">0</text>
<path d="${path(s.readyMin)}" fill="none" stroke="${color}" stroke-width="1"/>
<path d="${path(s.demandMax)}" fill="none" stroke="#000" stroke-width="0.8"/>
</svg>`;
}

export function simulationReportHtml(
  sim: SimulationResult,
  meta: { title: string; command?: string }
): string {
  const cap = sim.options.capacityPerReplica;
  const oracle = sim.results.find((r) => r.policy === 'oracle');
  const rows = sim.results
    .map((r) => {
      const vsOracle =
        oracle && oracle.replicaHours > 0
          ? `${fmt((r.replicaHours / oracle.replicaHours - 1) * 100, 1)} %`
          : '–';
      return `<tr><td>${esc(r.policy)}</td><td>${fmt(r.replicaHours)}</td><td>${vsOracle}</td><td>${fmt(r.violationMinutes)}</td><td>${r.lateScaleUps}</td><td>${fmt(r.meanRecoveryMinutes)}</td></tr>`;
    })
    .join('\n');
  let yMax = 0;
  for (const seg of sim.traces ?? []) {
    for (const v of seg.demand) yMax = Math.max(yMax, v);
    for (const p of seg.policies) for (const r of p.ready) yMax = Math.max(yMax, r * cap);
  }
  const plots = (sim.traces?.[0]?.policies ?? [])
    .map((p, i) =>
      plot(
        `${p.policy}: demand (black, max per column) vs ready capacity (min per column), cores`,
        bucketed(sim, i, cap, 1000),
        COLORS[p.policy] ?? '#555',
        yMax || 1
      )
    )
    .join('\n');
  const o = sim.options;
  return `<!doctype html>
<html><head><meta charset="utf-8"><title>${esc(meta.title)}</title>
<style>body{font-family:sans-serif;margin:24px}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:4px 8px;text-align:right}td:first-child{text-align:left}</style>
</head><body>
<h1>${esc(meta.title)}</h1>
${meta.command ? `<p><code>${esc(meta.command)}</code></p>` : ''}
<p>${fmt(sim.evaluatedHours, 1)} h evaluated over ${sim.segments - sim.skippedSegments} segment(s); peak ${o.peakReplicas} replicas × ${o.capacityPerReplica} core;
start-up ${o.startup} s; HPA target ${o.hpaTargetUtilization}; Prescaler: ${esc(o.quantile)} band at ${o.floorUtilization} utilisation, evaluated every ${o.interval} s (metric lag ${o.metricLag} s), HPA target ${o.prescalerTarget} behind its floor.</p>
<table><tr><th>policy</th><th>replica-hours</th><th>vs oracle</th><th>violation minutes</th><th>late scale-ups</th><th>mean recovery (min)</th></tr>
${rows}
</table>
${plots}
</body></html>
`;
}
