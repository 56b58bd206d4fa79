import type { Comparison, FrontierPoint, FrontierResult, Setting } from './frontier';
import { describeSetting, frontierReportHtml, num, paretoFront, pct } from './frontier-report';

function pt(
  setting: Setting,
  replicaHours: number,
  violationMinutes: number,
  late = 0,
  recovery = 0
): FrontierPoint {
  return { setting, replicaHours, violationMinutes, lateScaleUps: late, meanRecoveryMinutes: recovery };
}

const hpa = (t: number, rh: number, vm: number, late = 3, rec = 2.5) =>
  pt({ targetUtilization: t }, rh, vm, late, rec);
const pre = (quantile: 'mean' | 'upper', utilization: number, hpaTarget: number, rh: number, vm: number) =>
  pt({ quantile, utilization, hpaTarget }, rh, vm, 1, 4);

// HPA's points out of target order on purpose: the page must join them by target.
const HPA = [hpa(0.6, 900, 12), hpa(0.4, 1200, 4), hpa(0.7, 800, 20, 7, 3.25), hpa(0.5, 1000, 8, 5, 1.75)];
const PRE = [
  pre('mean', 0.8, 0.9, 700, 18), // front
  pre('mean', 0.9, 0.9, 760, 25), // beaten by the one above
  pre('upper', 0.7, 0.8, 850, 6), // front
  pre('upper', 0.6, 0.8, 1100, 2.5), // front
  pre('upper', 0.5, 0.8, 1150, 9), // beaten
];
const ORACLE = pt({}, 600, 0);

const tuned: Comparison = {
  hpa: HPA[3],
  prescaler: PRE[2],
  oracle: ORACLE,
  saving: 0.15,
  savingCi95: [0.0456, 0.2512],
  gapCaptured: 0.375,
  chosenOn: { hpa: hpa(0.5, 500, 1.5), prescaler: pre('upper', 0.7, 0.8, 430, 1.25), violationLimit: 2 },
};
const byDefault: Comparison = {
  hpa: HPA[2],
  prescaler: PRE[0],
  oracle: ORACLE,
  saving: -0.0625,
  savingCi95: [-0.1234, 0.0101],
  gapCaptured: null,
  chosenOn: { hpa: hpa(0.7, 400, 6), prescaler: pre('mean', 0.8, 0.9, 350, 5.5), violationLimit: 6 },
};

const START = Date.UTC(2024, 0, 1, 22, 0) / 1000; // 22:00 UTC: the day crosses midnight
function result(over: Partial<FrontierResult> = {}): FrontierResult {
  const n = 360;
  return {
    series: 2,
    evaluatedHours: 96.25,
    validationHours: 48,
    budget: { violationMinutes: 5.775, validationViolationMinutes: 2.88 },
    frontier: { hpa: HPA, prescaler: PRE },
    oracle: ORACLE,
    validation: { frontier: { hpa: HPA, prescaler: PRE }, oracle: ORACLE },
    comparison: { tuned, default: byDefault },
    skipped: [{ series: 'idle<1>', reason: 'fewer than two finite points' }],
    sampleDay: {
      series: 'web&api',
      start: START,
      step: 60,
      demand: Array.from({ length: n }, (_, i) => 5 + 3 * Math.sin(i / 40)),
      capacityPerReplica: 0.5,
      replicas: {
        hpa: Array.from({ length: n }, () => 20),
        prescaler: Array.from({ length: n }, (_, i) => (i < 180 ? 14 : 18)),
        oracle: Array.from({ length: n }, () => 17),
      },
    },
    ...over,
  };
}

const META = {
  title: 'Cost <script>alert(1)</script> & co',
  command: 'npm run -s simulate -- --data "a b.csv"',
  model: 'lstm@3',
};

/** The (x, y) pairs of an SVG path made of M/L/H/V commands. */
function pathPoints(d: string): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  let x = NaN;
  let y = NaN;
  for (const m of d.matchAll(/([MLHV])([-\d.]+)(?:,([-\d.]+))?/g)) {
    if (m[1] === 'H') x = Number(m[2]);
    else if (m[1] === 'V') y = Number(m[2]);
    else [x, y] = [Number(m[2]), Number(m[3])];
    out.push([x, y]);
  }
  return out;
}

function attr(html: string, cls: string, name: string): string[] {
  return [...html.matchAll(new RegExp(`<[a-z]+ class="${cls}"[^>]*? ${name}="([^"]*)"`, 'g'))].map(
    (m) => m[1]
  );
}

describe('frontierReportHtml', () => {
  const html = frontierReportHtml(result(), META);

  it('is one self-contained page with two charts and no scripts or external assets', () => {
    expect(html.startsWith('<!doctype html>')).toBe(true);
    expect(html.replace(/xmlns="http:\/\/www\.w3\.org\/2000\/svg"/g, '')).not.toMatch(
      /https?:|<script|<link|src=|@import|url\(/
    );
    expect(html.match(/<svg /g)).toHaveLength(2);
    expect(html).toContain('class="frontier-chart"');
    expect(html).toContain('class="sample-day-chart"');
  });

  it('escapes every text it is given', () => {
    expect(html).not.toContain('<script>alert(1)</script>');
    expect(html).toContain('<title>Cost &#60;script&#62;alert(1)&#60;/script&#62; &#38; co</title>');
    expect(html).toContain('<h1>Cost &#60;script&#62;alert(1)&#60;/script&#62; &#38; co</h1>');
    expect(html).toContain('<code>npm run -s simulate -- --data &#34;a b.csv&#34;</code>');
    expect(html).toContain('idle&#60;1&#62; (fewer than two finite points)');
    expect(html).toContain('web&#38;api');
    expect(html).toContain('Forecaster: lstm@3.');
  });

  it("draws HPA's curve through its points in target order, each labelled with its target", () => {
    expect(html.match(/class="frontier-hpa"/g)).toHaveLength(1);
    expect(html.match(/class="point-hpa"/g)).toHaveLength(4);
    const circles = attr(html, 'point-hpa', 'data-target').map((t, i) => ({
      t: Number(t),
      x: Number(attr(html, 'point-hpa', 'cx')[i]),
      y: Number(attr(html, 'point-hpa', 'cy')[i]),
    }));
    const byTarget = [...circles].sort((a, b) => a.t - b.t).map((c) => [c.x, c.y]);
    expect(pathPoints(attr(html, 'frontier-hpa', 'd')[0])).toEqual(byTarget);
    // Cheaper (lower x) and more violations (higher on the page, lower y) as the target rises.
    const xs = byTarget.map((p) => p[0]);
    expect(xs).toEqual([...xs].sort((a, b) => b - a));
    const labels = [...html.matchAll(/class="label-hpa"[^>]*>([^<]*)</g)].map((m) => m[1]);
    expect(labels.sort()).toEqual(['0.40', '0.50', '0.60', '0.70']);
  });

  it('draws every Prescaler setting as a dot and joins only its Pareto front', () => {
    expect(html.match(/class="point-prescaler"/g)).toHaveLength(5);
    expect(html.match(/class="frontier-prescaler"/g)).toHaveLength(1);
    const front = pathPoints(attr(html, 'frontier-prescaler', 'd')[0]);
    expect(front).toHaveLength(3);
    const dots = attr(html, 'point-prescaler', 'cx').map((x, i) => [
      Number(x),
      Number(attr(html, 'point-prescaler', 'cy')[i]),
    ]);
    expect(front).toEqual([dots[0], dots[2], dots[3]]);
  });

  it('marks the oracle, the budget and the chosen points of both comparisons', () => {
    expect(html.match(/class="oracle"/g)).toHaveLength(1);
    expect(html.match(/<line class="budget"/g)).toHaveLength(1);
    expect(html).toMatch(/class="label-budget"[^>]*>budget 5\.8 min \(0\.1 % of test minutes\)</);
    for (const g of [
      'chosen chosen-tuned chosen-hpa',
      'chosen chosen-tuned chosen-prescaler',
      'chosen chosen-default chosen-hpa',
      'chosen chosen-default chosen-prescaler',
    ])
      expect(html).toContain(`<g class="${g}">`);
    const labels = [...html.matchAll(/class="label-chosen"[^>]*>([^<]*)</g)].map((m) => m[1]);
    expect(labels).toEqual(['tuned HPA', 'tuned Prescaler', 'default HPA', 'default Prescaler']);
    // A chosen ring sits on its point: the tuned HPA is target 0.50.
    const ring = html.match(/<g class="chosen chosen-tuned chosen-hpa"><circle cx="([\d.]+)" cy="([\d.]+)"/)!;
    const i = attr(html, 'point-hpa', 'data-target').indexOf('0.5');
    expect([ring[1], ring[2]]).toEqual([attr(html, 'point-hpa', 'cx')[i], attr(html, 'point-hpa', 'cy')[i]]);
  });

  it('marks a setting both comparisons chose once, labelled with both', () => {
    const same = frontierReportHtml(
      result({ comparison: { tuned, default: { ...byDefault, prescaler: PRE[2] } } }),
      META
    );
    expect(same).toContain('<g class="chosen chosen-tuned chosen-default chosen-prescaler">');
    expect(same.match(/<g class="chosen /g)).toHaveLength(3);
    expect(same).toMatch(/class="label-chosen"[^>]*>tuned &#38; default Prescaler</);
  });

  it('tabulates both comparisons with the stated number formats', () => {
    const tunedPre = html.match(/<tr class="row-tuned-prescaler">(.*?)<\/tr>/s)![1];
    expect(tunedPre).toContain('upper band at 0.70 utilisation, HPA 0.80 behind');
    expect(tunedPre).toContain('<td>850.0</td><td>6.0</td><td>1</td><td>4.0</td>');
    expect(tunedPre).toContain('<td>1.3</td>'); // validation violation minutes it was chosen by
    expect(tunedPre).toContain('<b>15.0 %</b>');
    expect(tunedPre).toContain('[4.6 %, 25.1 %]');
    expect(tunedPre).toContain('<td class="gap">37.5 %</td>');
    const tunedHpa = html.match(/<tr class="row-tuned-hpa">(.*?)<\/tr>/s)![1];
    expect(tunedHpa).toContain('target 0.50');
    expect(tunedHpa).toContain('<td>1000.0</td><td>8.0</td><td>5</td><td>1.8</td>');
    const defPre = html.match(/<tr class="row-default-prescaler">(.*?)<\/tr>/s)![1];
    expect(defPre).toContain('<b>−6.3 %</b>'); // a true minus sign
    expect(defPre).toContain('[−12.3 %, 1.0 %]');
    expect(defPre).toContain('n/a (the oracle saves nothing)');
    const defOracle = html.match(/<tr class="row-default-oracle">(.*?)<\/tr>/s)![1];
    expect(defOracle).toContain('knows the future');
    expect(defOracle).toContain('25.0 % (bound)'); // 1 − 600 / 800
    expect(html).toContain('within its 6.0 validation violation minutes');
    expect(html).toContain('within B = 2.9 validation violation minutes');
  });

  it('says the settings were chosen on the validation slice and the figures are the test slice', () => {
    expect(html).toContain(
      "Settings were chosen on the validation slice; every figure on this page is the test slice's"
    );
    expect(html).toContain('96.3 h pooled over 2 series; validation slice 48.0 h');
    expect(html).toContain('5.8 min on the test slice');
    expect(html).toContain(
      "uses 6.3 % more replica-hours: saving <b>−6.3 %</b> (95 % interval −12.3 % to 1.0 %), at 18.0 violation minutes against HPA's 20.0"
    );
    expect(html).toContain('uses 15.0 % fewer replica-hours: saving <b>15.0 %</b>');
  });

  it('uses a linear violation axis for a narrow range and symlog for a wide one, and says which', () => {
    expect(html).toContain('violation minutes (linear scale)');
    const wide = frontierReportHtml(
      result({ frontier: { hpa: [...HPA, hpa(0.95, 500, 8000)], prescaler: PRE } }),
      META
    );
    expect(wide).toContain('violation minutes (symlog scale: log10(1 + minutes))');
    // Each tick at log10(1 + minutes) above 0.
    const chart = wide.slice(wide.indexOf('class="frontier-chart"'), wide.indexOf('</svg>'));
    const tickY = (t: string) =>
      Number(chart.match(new RegExp(`<text x="\\d+" y="([\\d.]+)"[^>]*>${t}</text>`))![1]);
    const zero = tickY('0');
    const height = (t: string) => zero - tickY(t);
    for (const t of ['1', '100', '1000'])
      expect(height(t) / height('10')).toBeCloseTo(Math.log10(1 + Number(t)) / Math.log10(11), 2);
  });

  it('draws the sample day: demand and each policy as step lines over hours UTC', () => {
    for (const cls of ['demand', 'capacity-hpa', 'capacity-prescaler', 'capacity-oracle'])
      expect(html.match(new RegExp(`<path class="${cls}" d="M[^"]+"`, 'g'))).toHaveLength(1);
    // A step line: only horizontal and vertical moves after its start.
    const d = attr(html, 'capacity-prescaler', 'd')[0];
    expect(d).toMatch(/^M[\d.]+,[\d.]+(?:[HV][\d.]+)+$/);
    // 180 min at 14 replicas, then 180 at 18: one move across, one up, one across.
    expect(d.match(/[HV]/g)).toEqual(['H', 'V', 'H']);
    // capacity = replicas × 0.5 core: HPA's 20 replicas draw at 10 cores, the oracle's 17 at 8.5.
    const yOf = (cls: string) => pathPoints(attr(html, cls, 'd')[0])[0][1];
    const day = html.slice(html.indexOf('class="sample-day-chart"'));
    const zero = Number(day.match(/<text x="\d+" y="([\d.]+)"[^>]*>0<\/text>/)![1]) - 3.5;
    expect((zero - yOf('capacity-hpa')) / (zero - yOf('capacity-oracle'))).toBeCloseTo(10 / 8.5, 2);
    // Six hours from 22:00 UTC: ticks at 00:00 (with its date) and 03:00.
    expect(html).toContain('>01-02 00:00</text>');
    expect(html).toContain('>03:00</text>');
    expect(html).toContain('time (UTC, hours), from 2024-01-01 22:00 UTC');
    expect(html).toContain('HPA (120.0 replica-h)'); // 20 replicas × 6 h
  });

  it('says so where there is no sample day', () => {
    const none = frontierReportHtml(result({ sampleDay: undefined }), META);
    expect(none.match(/<svg /g)).toHaveLength(1);
    expect(none).toContain('No series had a test day long enough to draw.');
  });
});

describe('report helpers', () => {
  it('formats numbers with a true minus sign and a dash for what is not a number', () => {
    expect(num(1234.56)).toBe('1234.6');
    expect(num(-0.04)).toBe('0.0');
    expect(num(-2.25, 2)).toBe('−2.25');
    expect(num(NaN)).toBe('–');
    expect(num(null)).toBe('–');
    expect(pct(0.1234)).toBe('12.3 %');
    expect(pct(-0.5)).toBe('−50.0 %');
    expect(pct(Infinity)).toBe('–');
  });

  it('describes settings', () => {
    expect(describeSetting({ targetUtilization: 0.7 })).toBe('target 0.70');
    expect(describeSetting({ quantile: 'upper', utilization: 0.8, hpaTarget: 0.9 })).toBe(
      'upper band at 0.80 utilisation, HPA 0.90 behind'
    );
    expect(describeSetting({ quantile: 'mean', utilization: 1, hpaTarget: 0.95, peakQuantile: 0.9 })).toBe(
      'mean band at 1.00 utilisation, peak p90, HPA 0.95 behind'
    );
    expect(describeSetting({ quantile: 'mean', utilization: 1, hpaTarget: 0.95, peakQuantile: 'off' })).toBe(
      'mean band at 1.00 utilisation, HPA 0.95 behind'
    );
    expect(describeSetting({})).toBe('knows the future');
  });

  it('keeps the points no other beats on both axes, cheapest first', () => {
    const front = paretoFront(PRE);
    expect(front.map((p) => [p.replicaHours, p.violationMinutes])).toEqual([
      [700, 18],
      [850, 6],
      [1100, 2.5],
    ]);
    // A tie in cost keeps the one with fewer violations only.
    expect(paretoFront([pt({}, 5, 3), pt({}, 5, 1), pt({}, 6, 1)]).map((p) => p.violationMinutes)).toEqual([
      1,
    ]);
    expect(paretoFront([])).toEqual([]);
  });
});
