/**
 * The `simulate --frontier --report out.html` page (docs/definitions.md "Cost at equal violations"): both policies'
 * frontiers on the test slice, the two comparisons as a table, and one test day of demand against each
 * policy's capacity. One self-contained HTML page: inline SVG, no scripts, fonts or other external assets.
 */
import { esc } from '../html';
import {
  BUDGET_FRACTION,
  DEFAULT_HPA_TARGET,
  type Comparison,
  type FrontierPoint,
  type FrontierResult,
} from './frontier';
import { frontierChart, sampleDayChart } from './frontier-report-charts';
import { COLOUR, describeSetting, num, pct, utc } from './frontier-report-format';

export { describeSetting, num, paretoFront, pct } from './frontier-report-format';

function comparisonRows(name: string, rule: string, c: Comparison): string {
  const rows: string[] = [];
  const cells = (p: FrontierPoint) =>
    `<td>${num(p.replicaHours)}</td><td>${num(p.violationMinutes)}</td><td>${p.lateScaleUps}</td><td>${num(p.meanRecoveryMinutes)}</td>`;
  const bound = c.hpa.replicaHours > 0 ? 1 - c.oracle.replicaHours / c.hpa.replicaHours : NaN;
  rows.push(
    `<tr class="row-${name}-hpa"><th rowspan="3" class="comparison">${esc(name)}<div class="rule">${esc(rule)}</div></th>` +
      `<td class="policy hpa">HPA</td><td class="setting">${esc(describeSetting(c.hpa.setting))}</td>${cells(c.hpa)}` +
      `<td>${num(c.chosenOn.hpa.violationMinutes)}</td><td>–</td><td>–</td><td>–</td></tr>`,
    `<tr class="row-${name}-prescaler"><td class="policy prescaler">Prescaler</td><td class="setting">${esc(describeSetting(c.prescaler.setting))}</td>${cells(c.prescaler)}` +
      `<td>${num(c.chosenOn.prescaler.violationMinutes)}</td><td class="saving"><b>${pct(c.saving)}</b></td>` +
      `<td class="ci">[${pct(c.savingCi95[0])}, ${pct(c.savingCi95[1])}]</td>` +
      `<td class="gap">${c.gapCaptured === null ? 'n/a (the oracle saves nothing)' : pct(c.gapCaptured)}</td></tr>`,
    `<tr class="row-${name}-oracle"><td class="policy oracle">oracle</td><td class="setting">${esc(describeSetting(c.oracle.setting))}</td>${cells(c.oracle)}` +
      `<td>–</td><td title="what any forecaster could save at most">${pct(bound)} (bound)</td><td>–</td><td>–</td></tr>`
  );
  return rows.join('\n');
}

function headline(name: string, c: Comparison): string {
  return (
    `Against ${name} (${esc(describeSetting(c.hpa.setting))}), Prescaler (${esc(describeSetting(c.prescaler.setting))}) ` +
    `uses ${pct(Math.abs(c.saving))} ${c.saving >= 0 ? 'fewer' : 'more'} replica-hours: ` +
    `saving <b>${pct(c.saving)}</b> (95 % interval ${pct(c.savingCi95[0])} to ${pct(c.savingCi95[1])}), ` +
    `at ${num(c.prescaler.violationMinutes)} violation minutes against HPA's ${num(c.hpa.violationMinutes)}; ` +
    `gap to the oracle captured: ${c.gapCaptured === null ? 'n/a' : pct(c.gapCaptured)}.`
  );
}

export function frontierReportHtml(
  f: FrontierResult,
  meta: { title: string; command?: string; model?: string }
): string {
  const { tuned, default: byDefault } = f.comparison;
  const skipped = f.skipped.length
    ? `<p class="skipped">Skipped: ${f.skipped.map((s) => `${esc(s.series)} (${esc(s.reason)})`).join('; ')}.</p>`
    : '';
  const day = f.sampleDay;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(meta.title)}</title>
<style>body{font-family:sans-serif;margin:24px;max-width:1100px;color:#111}
table{border-collapse:collapse;font-size:13px}td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}
td.policy,td.setting,th.comparison{text-align:left}th.comparison{font-weight:bold;vertical-align:top}
.rule{font-weight:normal;font-size:11px;color:#555;max-width:220px}td.hpa{color:${COLOUR.hpa}}
td.prescaler{color:${COLOUR.prescaler}}td.oracle{color:${COLOUR.oracle}}code{font-size:12px;word-break:break-all}
p{line-height:1.4}svg{display:block;margin:8px 0}</style>
</head><body>
<h1>${esc(meta.title)}</h1>
<p class="slices"><b>Settings were chosen on the validation slice; every figure on this page is the test slice's</b>
(${num(f.evaluatedHours)} h pooled over ${f.series} series; validation slice ${num(f.validationHours)} h).
Forecaster: ${esc(meta.model ?? 'not given')}.
Violation budget B = ${num(BUDGET_FRACTION * 100)} % of evaluated minutes: ${num(f.budget.violationMinutes)} min on the test slice,
${num(f.budget.validationViolationMinutes)} min on the validation slice.</p>
<p class="headline">${headline('the tuned HPA', tuned)}<br>${headline('HPA at the default target', byDefault)}</p>
${skipped}
<h2>Cost against violations, test slice</h2>
${frontierChart(f)}
<h2>The two comparisons</h2>
<table class="comparisons"><thead><tr><th>comparison</th><th>policy</th><th>setting</th><th>replica-hours</th><th>violation minutes</th>
<th>late scale-ups</th><th>mean recovery (min)</th><th>validation violation minutes (chosen by)</th><th>saving vs HPA (replica-hours)</th><th>95 % interval</th><th>gap captured</th></tr></thead>
<tbody>
${comparisonRows('tuned', `each the cheapest setting within B = ${num(f.budget.validationViolationMinutes)} validation violation minutes`, tuned)}
${comparisonRows('default', `HPA at ${num(DEFAULT_HPA_TARGET, 2)}; Prescaler the cheapest setting within its ${num(byDefault.chosenOn.violationLimit)} validation violation minutes`, byDefault)}
</tbody></table>
<p>Saving = 1 − Prescaler / HPA replica-hours; its 95 % interval from a bootstrap over whole test days.
Gap captured = (HPA − Prescaler) / (HPA − oracle) replica-hours. The oracle row's saving is the most any forecaster could save.
Late scale-ups: violations that began where the policy had not asked for enough capacity one start-up earlier.</p>
<h2>A test day: demand and capacity</h2>
${
  day
    ? `<p>${esc(day.series)}, the first test day (${esc(utc(day.start))} UTC, one value per ${num(day.step / 60, 0)} min), under the default comparison's settings:
HPA ${esc(describeSetting(byDefault.hpa.setting))}; Prescaler ${esc(describeSetting(byDefault.prescaler.setting))}.</p>
${sampleDayChart(day, byDefault)}`
    : '<p class="no-sample-day">No series had a test day long enough to draw.</p>'
}
${meta.command ? `<p>Reproduce this page: <code>${esc(meta.command)}</code></p>` : ''}
</body></html>
`;
}
