import { mulberry32 } from '../series/random';
import { JsonWriter } from './json-writer';

const written = (fn: (w: JsonWriter) => void, initial?: number) => {
  const w = new JsonWriter(initial);
  fn(w);
  return w.bytes().toString('utf8');
};

describe('JsonWriter', () => {
  it('writes numbers that read back as exactly the same doubles', () => {
    const rng = mulberry32(3);
    const values = [
      0,
      -0,
      1,
      -1,
      0.1,
      0.05,
      -0.05,
      0.000001,
      1e-7,
      123.456,
      1e15,
      1e15 - 1,
      2 ** 53,
      1e21,
      1e300,
    ];
    values.push(5e-324, Number.MAX_VALUE, 0.1 + 0.2, 1 / 3, -2 / 3, 1795730400000, 1795730400000.5);
    for (let i = 0; i < 20000; i++) {
      const x = (rng() - 0.5) * 10 ** Math.floor(rng() * 30 - 12);
      values.push(x, Math.round(x * 1e4) / 1e4, Number(x.toPrecision(1 + Math.floor(rng() * 8))));
    }
    const text = written((w) => {
      w.raw('[');
      values.forEach((v, i) => (i ? w.raw(',') : w).number(v));
      w.raw(']');
    }, 16);
    const back = JSON.parse(text) as number[];
    expect(back.length).toBe(values.length);
    values.forEach((v, i) => {
      // -0 is written 0, as JSON.stringify writes it.
      if (back[i] !== v || (Object.is(back[i], -0) && !Object.is(v, -0))) expect([v, back[i]]).toBe('equal');
    });
  });

  it('uses the plain decimal a person would write for scrape-like values', () => {
    expect(written((w) => w.number(3.0617))).toBe('3.0617');
    expect(written((w) => w.number(0.05))).toBe('0.05');
    expect(written((w) => w.number(-12.5))).toBe('-12.5');
    expect(written((w) => w.number(1795730400000))).toBe('1795730400000');
    expect(written((w) => w.number(-0))).toBe('0');
    expect(written((w) => w.number(0.1 + 0.2))).toBe(String(0.1 + 0.2));
  });

  it('writes null for values JSON cannot hold, as JSON.stringify does', () => {
    expect(
      written((w) => w.raw('[').number(NaN).raw(',').number(Infinity).raw(',').number(-Infinity).raw(']'))
    ).toBe(JSON.stringify([NaN, Infinity, -Infinity]));
  });

  it('writes any value, non-ASCII text included, through JSON.stringify, and grows as needed', () => {
    const labels = { pod: 'web-1', név: 'é😀 "quoted"\n' };
    const text = written((w) => {
      w.raw('[');
      for (let i = 0; i < 5000; i++) (i ? w.raw(',') : w).value(labels);
      w.raw(']');
    }, 16);
    expect(JSON.parse(text)).toEqual(Array.from({ length: 5000 }, () => labels));
  });
});

describe('JsonWriter.rounded', () => {
  it('rounds to significant digits, drops trailing zeros, keeps order and sign', () => {
    const w = (v: number, d = 7) => new JsonWriter().rounded(v, d).bytes().toString();
    expect(w(2.345678912345)).toBe('2.345679');
    expect(w(1234.5)).toBe('1234.5');
    expect(w(0.000123456789)).toBe('0.0001234568');
    expect(w(-9.99999999)).toBe('-10');
    expect(w(123456789)).toBe('123456789'); // beyond 7 integer digits: written whole
    expect(w(0)).toBe('0');
    expect(w(1858137.5)).toBe('1858138');
    expect(w(-1858137.5)).toBe('-1858138'); // halves round away from zero for both signs
    expect(w(NaN)).toBe('null');
    // Math.log10(9999999.999999998) is 7; written whole, it would sit below 9999999.6 rounded (10000000),
    // and a band with those as lower and mean would come out with lower > mean.
    expect(w(9999999.999999998)).toBe('10000000');
    expect(Number(w(9999999.6))).toBeLessThanOrEqual(Number(w(9999999.999999998)));
    const rng = mulberry32(4);
    for (let i = 0; i < 5000; i++) {
      const a = rng() * 10 ** Math.floor(rng() * 8 - 4);
      const b = a * (1 + rng() * 1e-6);
      const [ra, rb] = [Number(w(a)), Number(w(b))];
      expect(ra <= rb && Math.abs(ra - a) <= Math.abs(a) * 5e-7).toBe(true);
    }
  });
});
