/** The frontier report's two charts: both frontiers on the test slice, and one test day of demand. */
import { esc } from '../html';
import {
  BUDGET_FRACTION,
  DEFAULT_HPA_TARGET,
  type Comparison,
  type FrontierPoint,
  type FrontierResult,
  type SampleDay,
  type Setting,
} from './frontier';
import { COLOUR, describeSetting, num, paretoFront, utc } from './frontier-report-format';
import {
  axes,
  label,
  linearAxis,
  Placer,
  polyline,
  stepPath,
  violationAxis,
  type Axis,
  type Frame,
} from './frontier-report-svg';

/** A point's figures, for its tooltip. */
function figures(p: FrontierPoint): string {
  return `${num(p.replicaHours)} replica-h, ${num(p.violationMinutes)} violation min, ${p.lateScaleUps} late scale-ups`;
}

function sameSetting(a: Setting, b: Setting): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** Chart 1: both frontiers on the test slice, the budget, the oracle and the chosen points. */
export function frontierChart(f: FrontierResult): string {
  const fr: Frame = { W: 1080, H: 560, pad: { left: 78, right: 260, top: 18, bottom: 54 } };
  const hpa = [...f.frontier.hpa].sort(
    (a, b) =>
      ('targetUtilization' in a.setting ? a.setting.targetUtilization : 0) -
      ('targetUtilization' in b.setting ? b.setting.targetUtilization : 0)
  );
  const pre = f.frontier.prescaler;
  const front = paretoFront(pre);
  const all = [...hpa, ...pre, f.oracle];
  const xs = all.map((p) => p.replicaHours).filter(Number.isFinite);
  const lo = Math.min(...xs);
  const hi = Math.max(...xs);
  const margin = (hi - lo || Math.abs(hi) || 1) * 0.06;
  const x = linearAxis(
    Math.max(0, lo - margin),
    hi + margin,
    fr.pad.left,
    fr.W - fr.pad.right,
    `replica-hours on the test slice (${num(f.evaluatedHours)} h, ${f.series} series pooled)`,
    8
  );
  const y = violationAxis(
    [...all.map((p) => p.violationMinutes), f.budget.violationMinutes],
    fr.H - fr.pad.bottom,
    fr.pad.top
  );
  const xy = (p: FrontierPoint): [number, number] => [x.at(p.replicaHours), y.at(p.violationMinutes)];
  const out: string[] = [axes(fr, x, y)];
  // Labels are drawn last, over every line and marker, each placed where it hides no other.
  const labels: string[] = [];
  const placer = new Placer({
    x0: fr.pad.left,
    y0: fr.pad.top,
    x1: fr.W - fr.pad.right,
    y1: fr.H - fr.pad.bottom,
  });
  const hpaXY = hpa.map(xy);
  const preXY = pre.map(xy);
  const [ox, oy] = xy(f.oracle);
  for (const [px, py] of [...hpaXY, ...preXY]) placer.blockPoint(px, py, 4);
  placer.blockPoint(ox, oy, 7);

  // The budget.
  const by = y.at(f.budget.violationMinutes);
  out.push(
    `<line class="budget" x1="${fr.pad.left}" x2="${fr.W - fr.pad.right}" y1="${by.toFixed(1)}" y2="${by.toFixed(1)}" stroke="${COLOUR.budget}" stroke-width="1.5" stroke-dasharray="7 4"/>`
  );

  // Prescaler: every setting a dot, its Pareto front a line.
  pre.forEach((p, i) => {
    const [px, py] = preXY[i];
    const upper = 'quantile' in p.setting && p.setting.quantile === 'upper';
    out.push(
      `<circle class="point-prescaler" cx="${px.toFixed(1)}" cy="${py.toFixed(1)}" r="3.5" fill="${upper ? '#fff' : COLOUR.prescaler}" fill-opacity="${upper ? 1 : 0.55}" stroke="${COLOUR.prescaler}" stroke-width="1.2"><title>Prescaler: ${esc(describeSetting(p.setting))}; ${esc(figures(p))}</title></circle>`
    );
  });
  out.push(
    `<path class="frontier-prescaler" d="${polyline(front.map(xy))}" fill="none" stroke="${COLOUR.prescaler}" stroke-width="2"/>`
  );

  // HPA: its points joined in target order.
  out.push(
    `<path class="frontier-hpa" d="${polyline(hpaXY)}" fill="none" stroke="${COLOUR.hpa}" stroke-width="2"/>`
  );
  hpa.forEach((p, i) => {
    const [px, py] = hpaXY[i];
    const t = 'targetUtilization' in p.setting ? p.setting.targetUtilization : NaN;
    out.push(
      `<circle class="point-hpa" data-target="${t}" cx="${px.toFixed(1)}" cy="${py.toFixed(1)}" r="4" fill="${COLOUR.hpa}"><title>HPA target ${num(t, 2)}: ${esc(figures(p))}</title></circle>`
    );
  });

  // The oracle.
  out.push(
    `<path class="oracle" d="M${ox.toFixed(1)},${(oy - 7).toFixed(1)}l7,7l-7,7l-7,-7z" fill="${COLOUR.oracle}" stroke="#fff"><title>oracle: ${esc(figures(f.oracle))}</title></path>`
  );

  // The chosen points of both comparisons; one mark where both chose the same setting.
  const chosen: Array<{ policy: 'hpa' | 'prescaler'; p: FrontierPoint; by: Array<'tuned' | 'default'> }> = [];
  for (const cmp of ['tuned', 'default'] as const) {
    for (const policy of ['hpa', 'prescaler'] as const) {
      const p = f.comparison[cmp][policy];
      const same = chosen.find((c) => c.policy === policy && sameSetting(c.p.setting, p.setting));
      if (same) same.by.push(cmp);
      else chosen.push({ policy, p, by: [cmp] });
    }
  }
  for (const c of chosen) {
    const [px, py] = xy(c.p);
    placer.blockPoint(px, py, 9);
  }
  const around = (r: number): Array<[number, number, 'start' | 'end']> => [
    [r, r + 8, 'start'],
    [-r, r + 8, 'end'],
    [r, -r, 'start'],
    [-r, -r, 'end'],
    [r + 2, 4, 'start'],
    [-r - 2, 4, 'end'],
    [0, r + 20, 'start'],
    [0, r + 20, 'end'],
    [0, -r - 12, 'start'],
    [0, -r - 12, 'end'],
  ];
  for (const c of chosen) {
    const [px, py] = xy(c.p);
    const name = c.policy === 'hpa' ? 'HPA' : 'Prescaler';
    const text = `${c.by.join(' & ')} ${name}`;
    const at = placer.place(px, py, text, 11.5, around(10), true);
    out.push(
      `<g class="chosen ${c.by.map((b) => `chosen-${b}`).join(' ')} chosen-${c.policy}">` +
        `<circle cx="${px.toFixed(1)}" cy="${py.toFixed(1)}" r="9" fill="none" stroke="#111" stroke-width="1.6"${c.by.includes('tuned') ? '' : ' stroke-dasharray="3 2"'}/>` +
        `</g>`
    );
    labels.push(
      label(
        at.x,
        at.y,
        text,
        `class="label-chosen" font-size="11.5" font-weight="bold" text-anchor="${at.anchor}" fill="${COLOUR[c.policy]}"`
      )
    );
  }
  {
    const at = placer.place(ox, oy, 'oracle', 11, around(8), true);
    labels.push(
      label(
        at.x,
        at.y,
        'oracle',
        `font-size="11" font-weight="bold" text-anchor="${at.anchor}" fill="${COLOUR.oracle}"`
      )
    );
  }
  {
    const text = `budget ${num(f.budget.violationMinutes)} min (${num(BUDGET_FRACTION * 100)} % of test minutes)`;
    const l = fr.pad.left + 6;
    const r = fr.W - fr.pad.right - 6;
    const at = placer.place(0, by, text, 11, [
      [l, -5, 'start'],
      [r, -5, 'end'],
      [l, 14, 'start'],
      [r, 14, 'end'],
      [(l + r) / 2, -5, 'start'],
      [(l + r) / 2, 14, 'start'],
    ]);
    labels.push(
      label(
        at.x,
        at.y,
        text,
        `class="label-budget" font-size="11" text-anchor="${at.anchor}" fill="${COLOUR.budget}"`
      )
    );
  }
  hpa.forEach((p, i) => {
    const [px, py] = hpaXY[i];
    const t = 'targetUtilization' in p.setting ? num(p.setting.targetUtilization, 2) : '';
    const at = placer.place(px, py, t, 10.5, [
      [6, -6, 'start'],
      [-6, -6, 'end'],
      [6, 14, 'start'],
      [-6, 14, 'end'],
      [8, 4, 'start'],
      [-8, 4, 'end'],
    ]);
    labels.push(
      label(
        at.x,
        at.y,
        t,
        `class="label-hpa" font-size="10.5" text-anchor="${at.anchor}" fill="${COLOUR.hpa}"`
      )
    );
  });
  out.push(...labels);

  // Legend, in the right margin.
  const lx = fr.W - fr.pad.right + 18;
  let ly = fr.pad.top + 14;
  const row = (mark: string, text: string) => {
    out.push(
      `<g class="legend">${mark}<text x="${lx + 30}" y="${ly + 4}" font-size="11.5">${esc(text)}</text></g>`
    );
    ly += 21;
  };
  row(
    `<line x1="${lx}" x2="${lx + 22}" y1="${ly}" y2="${ly}" stroke="${COLOUR.hpa}" stroke-width="2"/><circle cx="${lx + 11}" cy="${ly}" r="4" fill="${COLOUR.hpa}"/>`,
    'HPA, one point per target'
  );
  row(
    `<circle cx="${lx + 5}" cy="${ly}" r="3.5" fill="${COLOUR.prescaler}" fill-opacity="0.55" stroke="${COLOUR.prescaler}"/><circle cx="${lx + 17}" cy="${ly}" r="3.5" fill="#fff" stroke="${COLOUR.prescaler}"/>`,
    'Prescaler: mean / upper band'
  );
  row(
    `<line x1="${lx}" x2="${lx + 22}" y1="${ly}" y2="${ly}" stroke="${COLOUR.prescaler}" stroke-width="2"/>`,
    "Prescaler's Pareto front"
  );
  row(
    `<path d="M${lx + 11},${ly - 7}l7,7l-7,7l-7,-7z" fill="${COLOUR.oracle}"/>`,
    'oracle (knows the future)'
  );
  row(
    `<line x1="${lx}" x2="${lx + 22}" y1="${ly}" y2="${ly}" stroke="${COLOUR.budget}" stroke-width="1.5" stroke-dasharray="7 4"/>`,
    'violation budget'
  );
  row(
    `<circle cx="${lx + 11}" cy="${ly}" r="8" fill="none" stroke="#111" stroke-width="1.6"/>`,
    'chosen, tuned comparison'
  );
  row(
    `<circle cx="${lx + 11}" cy="${ly}" r="8" fill="none" stroke="#111" stroke-width="1.6" stroke-dasharray="3 2"/>`,
    `chosen, default (HPA ${num(DEFAULT_HPA_TARGET, 2)})`
  );
  ly += 8;
  for (const line of [
    'Lower and further left is better.',
    'Settings chosen on the',
    'validation slice; every',
    "point is the test slice's.",
  ]) {
    out.push(`<text x="${lx}" y="${ly}" font-size="11" fill="#555">${esc(line)}</text>`);
    ly += 15;
  }

  return `<svg class="frontier-chart" xmlns="http://www.w3.org/2000/svg" width="${fr.W}" height="${fr.H}" viewBox="0 0 ${fr.W} ${fr.H}" font-family="sans-serif">
${out.join('\n')}
</svg>`;
}

/** Chart 2: one test day of demand and each policy's capacity, under the default comparison's settings. */
export function sampleDayChart(d: SampleDay, c: Comparison): string {
  const fr: Frame = { W: 1080, H: 360, pad: { left: 78, right: 260, top: 18, bottom: 54 } };
  const n = d.demand.length;
  const t0 = d.start;
  const t1 = d.start + n * d.step;
  const cap = (rs: readonly number[]) => rs.map((r) => r * d.capacityPerReplica);
  const lines = [
    { key: 'hpa', name: `HPA, ${describeSetting(c.hpa.setting)}`, values: cap(d.replicas.hpa) },
    { key: 'prescaler', name: 'Prescaler, default comparison', values: cap(d.replicas.prescaler) },
    { key: 'oracle', name: 'oracle', values: cap(d.replicas.oracle) },
  ] as const;
  const yMax = Math.max(1e-9, ...d.demand.filter(Number.isFinite), ...lines.flatMap((l) => l.values));
  const y = linearAxis(0, yMax * 1.06, fr.H - fr.pad.bottom, fr.pad.top, 'cores', 6);
  const sx = (t: number) => fr.pad.left + ((t - t0) / (t1 - t0)) * (fr.W - fr.pad.left - fr.pad.right);
  const ticks: Axis['ticks'] = [];
  for (let t = Math.ceil(t0 / 10800) * 10800; t <= t1; t += 10800) {
    const hh = new Date(t * 1000).toISOString().slice(11, 16);
    ticks.push({
      v: t,
      label: hh === '00:00' ? `${new Date(t * 1000).toISOString().slice(5, 10)} ${hh}` : hh,
    });
  }
  const x: Axis = { at: sx, ticks, title: `time (UTC, hours), from ${utc(t0)} UTC` };
  const out: string[] = [axes(fr, x, y)];
  const base = y.at(0).toFixed(1);
  const demandLine = stepPath(d.demand, t0, d.step, sx, y.at);
  out.push(
    `<path class="demand-area" d="${demandLine}V${base}H${sx(t0).toFixed(1)}Z" fill="#000" fill-opacity="0.07" stroke="none"/>`,
    `<path class="demand" d="${demandLine}" fill="none" stroke="${COLOUR.demand}" stroke-width="1"/>`
  );
  for (const l of lines) {
    out.push(
      `<path class="capacity-${l.key}" d="${stepPath(l.values, t0, d.step, sx, y.at)}" fill="none" stroke="${COLOUR[l.key]}" stroke-width="${l.key === 'oracle' ? 1.2 : 1.6}"${l.key === 'oracle' ? ' stroke-dasharray="5 3"' : ''}/>`
    );
  }
  const lx = fr.W - fr.pad.right + 18;
  let ly = fr.pad.top + 14;
  const replicaHours = (rs: readonly number[]) => (rs.reduce((a, r) => a + r, 0) * d.step) / 3600;
  out.push(
    `<g class="legend"><rect x="${lx}" y="${ly - 6}" width="22" height="12" fill="#000" fill-opacity="0.07" stroke="${COLOUR.demand}"/><text x="${lx + 30}" y="${ly + 4}" font-size="11.5">demand (cores)</text></g>`
  );
  ly += 21;
  for (const l of lines) {
    const rs = d.replicas[l.key];
    out.push(
      `<g class="legend"><line x1="${lx}" x2="${lx + 22}" y1="${ly}" y2="${ly}" stroke="${COLOUR[l.key]}" stroke-width="2"${l.key === 'oracle' ? ' stroke-dasharray="5 3"' : ''}/><text x="${lx + 30}" y="${ly + 4}" font-size="11.5">${esc(l.key === 'hpa' ? 'HPA' : l.key === 'prescaler' ? 'Prescaler' : 'oracle')} (${num(replicaHours(rs))} replica-h)</text></g>`
    );
    ly += 21;
  }
  ly += 8;
  for (const line of [
    'Capacity = replicas asked for',
    `× ${num(d.capacityPerReplica, 2)} core per replica.`,
  ]) {
    out.push(`<text x="${lx}" y="${ly}" font-size="11" fill="#555">${esc(line)}</text>`);
    ly += 15;
  }
  return `<svg class="sample-day-chart" xmlns="http://www.w3.org/2000/svg" width="${fr.W}" height="${fr.H}" viewBox="0 0 ${fr.W} ${fr.H}" font-family="sans-serif">
${out.join('\n')}
</svg>`;
}
