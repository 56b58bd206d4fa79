import { mulberry32 } from '../series/random';
import { JsonBytesError, parseJsonBytes, sampleValueFromText, SamplePairs } from './json-bytes';

const bytes = (s: string) => new TextEncoder().encode(s);

/** What JSON.parse gives, with every SamplePairs turned back into its [t, "v"] array for comparison. */
function plain(v: unknown): unknown {
  if (v instanceof SamplePairs) return Array.from(v.times, (t, i) => [t, v.values[i]]);
  if (Array.isArray(v)) return v.map(plain);
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, plain(x)]));
  return v;
}

/** JSON.parse's answer with each `values` array of pairs converted the way the fast reader converts it. */
function reference(text: string): unknown {
  return JSON.parse(text, (key, v: unknown) =>
    key === 'values' &&
    Array.isArray(v) &&
    v.every((p) => Array.isArray(p) && p.length === 2 && typeof p[0] === 'number' && typeof p[1] === 'string')
      ? v.map(([t, s]: [number, string]) => [t, sampleValueFromText(s)])
      : v
  );
}

describe('parseJsonBytes', () => {
  it('reads a Prometheus matrix answer into typed arrays', () => {
    const out = parseJsonBytes(
      bytes(
        '{"status":"success","data":{"resultType":"matrix","result":[' +
          '{"metric":{"pod":"a"},"values":[[1700000000,"1.5"],[1700000060.25,"NaN"],[1700000120,"+Inf"],[1700000180,"-Inf"],[1700000240,"-0.000125"]]},' +
          '{"metric":{},"values":[]}]}}'
      )
    ) as { data: { result: Array<{ metric: unknown; values: SamplePairs }> } };
    const [a, b] = out.data.result;
    expect(a.metric).toEqual({ pod: 'a' });
    expect(a.values).toBeInstanceOf(SamplePairs);
    expect(Array.from(a.values.times)).toEqual([
      1700000000, 1700000060.25, 1700000120, 1700000180, 1700000240,
    ]);
    expect(Array.from(a.values.values)).toEqual([1.5, NaN, Infinity, -Infinity, -0.000125]);
    expect(b.values.times.length).toBe(0);
  });

  it('gives exactly the doubles Number() gives, for every way Prometheus writes a value', () => {
    const rng = mulberry32(5);
    const texts: string[] = [
      '0',
      '-0',
      '1',
      '0.1',
      '0.30000000000000004',
      '123456789012345',
      '1234567890123456',
      '12345678901234567890',
      '9007199254740993',
      '0.000001',
      '1e-7',
      '1.5E+300',
      '5e-324',
      '1.7976931348623157e+308',
      '00.5',
      '+1.5',
      '.5',
      '1.',
      ' 2 ',
      '',
      'abc',
      '12abc',
      'Inf',
    ];
    for (let i = 0; i < 3000; i++) {
      const x = (rng() - 0.5) * 10 ** Math.floor(rng() * 24 - 12);
      texts.push(String(x), x.toFixed(Math.floor(rng() * 8)), x.toPrecision(1 + Math.floor(rng() * 17)));
    }
    const body = `{"values":[${texts.map((t, i) => `[${i},${JSON.stringify(t)}]`).join(',')}]}`;
    const got = (parseJsonBytes(bytes(body)) as { values: SamplePairs }).values;
    texts.forEach((t, i) => {
      const want = sampleValueFromText(t);
      expect(Object.is(got.values[i], want) ? t : `${t} → ${got.values[i]}, want ${want}`).toBe(t);
    });
  });

  it('records where each plain sample is written, for copying it out', () => {
    const text =
      '{"values":[[1700000000,"1.5"],[1700000060.5,"2"],[1700000120,"1e3"],[1700000180,"-0.25"],' +
      ' [ 1700000240 , "7" ] ,[1700000300,"NaN"],[1700000360,"00.5"]]}';
    const b = bytes(text);
    const { times, values, text: t } = (parseJsonBytes(b) as { values: SamplePairs }).values;
    const slice = (at: number, len: number) => (len ? Buffer.from(b.subarray(at, at + len)).toString() : '');
    const written = Array.from(times, (_, i) => [
      slice(t.timeAt[i], t.timeLen[i]),
      slice(t.valueAt[i], t.valueLen[i]),
    ]);
    expect(written).toEqual([
      ['1700000000', '1.5'],
      ['', '2'], // fractional seconds: not copyable as milliseconds
      ['1700000120', ''], // an exponent: not in the plain form
      ['1700000180', '-0.25'],
      ['1700000240', '7'], // whitespace around the pair is fine
      ['1700000300', ''],
      ['1700000360', ''], // a leading zero is not a JSON number
    ]);
    written.forEach(([ts, vs], i) => {
      if (ts) expect(Number(ts)).toBe(times[i]);
      if (vs) expect(JSON.parse(vs)).toBe(values[i]);
    });
  });

  it('lets a later duplicate "values" member win, as JSON.parse does', () => {
    const text = '{"values":[[1,"2"]],"values":[[3,"4"]]}';
    expect(plain(parseJsonBytes(bytes(text)))).toEqual({ values: [[3, 4]] });
    expect(plain(parseJsonBytes(bytes('{"values":[[1,"2"]],"values":5}')))).toEqual({ values: 5 });
  });

  it('reads timestamps exactly, fractional ones included', () => {
    const rng = mulberry32(9);
    const ts = Array.from({ length: 2000 }, () => Math.round((1.6e9 + rng() * 1e8) * 1000) / 1000);
    ts.push(0, 1, 1e15, 1.5e16, 123.456e3);
    const body = `{"values":[${ts.map((t) => `[${t},"1"]`).join(',')}]}`;
    const got = (parseJsonBytes(bytes(body)) as { values: SamplePairs }).values;
    expect(Array.from(got.times)).toEqual(ts);
  });

  it('agrees with JSON.parse on whitespace, escapes, non-ASCII labels and other members', () => {
    const text = ` {\n "status" : "success", "warnings":["a\\"b", "\\u00e9\\ud83d\\ude00"],
      "data" : { "result" : [ { "values" : [ [ 1 , "2" ] ,[3,"4.25"] ] , "metric" : { "név":"é😀", "a\\nb":"\\\\" } } ,
      {"metric":{},"histograms":[[1,{"count":"2","sum":"3","buckets":[[0,"0","1","2"]]}]]}],
      "resultType":"matrix", "n":-1.25e3, "t":true, "f":false, "z":null, "values":"not pairs" } } `;
    expect(plain(parseJsonBytes(bytes(text)))).toEqual(reference(text));
  });

  it('reads a "values" member that is not pairs as ordinary JSON', () => {
    for (const text of [
      '{"values":[1,2,3]}',
      '{"values":[[1,"2"],[3,4]]}',
      '{"values":[[1,"2"],[3,"4",5]]}',
      '{"values":[[1,"2"],{"a":1}]}',
      '{"values":[["1","2"]]}',
      '{"values":[[1,"2"],null]}',
    ]) {
      expect(parseJsonBytes(bytes(text))).toEqual(JSON.parse(text));
    }
  });

  it('reads label strings it has seen before, and ones whose hash collides with them, as written', () => {
    // 'pod-1479599' and 'pod-1662382' have the same FNV-1a hash (the key of the reader's string table).
    const doc = (pods: string[]) =>
      JSON.stringify({ result: pods.map((pod) => ({ metric: { pod, n: 'x'.repeat(70) }, values: [] })) });
    for (const pods of [['pod-1479599'], ['pod-1662382', 'pod-1479599'], ['pod-1479599', 'pod-1479598']]) {
      expect(plain(parseJsonBytes(bytes(doc(pods))))).toEqual(JSON.parse(doc(pods)));
    }
    // More distinct strings than the table holds: it starts over, answers stay right.
    const many = Array.from({ length: 70_000 }, (_, i) => `p${i}`);
    const parsed = plain(parseJsonBytes(bytes(doc(many)))) as { result: Array<{ metric: { pod: string } }> };
    expect(parsed.result.map((r) => r.metric.pod)).toEqual(many);
  });

  it('keeps __proto__ as an ordinary member, as JSON.parse does', () => {
    const out = parseJsonBytes(bytes('{"__proto__":{"polluted":1}}')) as Record<string, unknown>;
    expect(Object.getPrototypeOf(out)).toBe(Object.prototype);
    expect(Object.keys(out)).toEqual(['__proto__']);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it.each([
    ['', 'unexpected end'],
    ['{', 'member name'],
    ['{"a":1,}', 'member name'],
    ['[1,]', 'unexpected character'],
    ['{"a":1} x', 'after the JSON value'],
    ['{"a":01}', "expected ','"],
    ['{"a":1.}', 'malformed number'],
    ['{"a":-}', 'malformed number'],
    ['{"a":"x', 'unterminated string'],
    ['{"a":"\\x"}', 'malformed string'],
    ['{"a":"tab\there"}', 'malformed string'],
    ['{"values":[[1,"2"],[3,"4"]', "expected ',' or ']'"],
    ['{"values":[[1,"2"]', "expected ',' or ']'"],
    ['nul', 'unexpected character'],
  ])('refuses %j with a SyntaxError naming the problem', (text, why) => {
    expect(() => parseJsonBytes(bytes(text))).toThrow(JsonBytesError);
    expect(() => parseJsonBytes(bytes(text))).toThrow(why);
    expect(() => JSON.parse(text)).toThrow(SyntaxError); // the reference agrees it is not JSON
  });

  it('keeps a U+FEFF that starts a string or member name, as JSON.parse does', () => {
    // Written as bytes EF BB BF: a byte order mark means something only before a whole text.
    const text = '{"\uFEFFk":"\uFEFFpod","values":[[1,"2"]],"metric":{"a":"\uFEFF\u00e9"}}';
    expect(plain(parseJsonBytes(bytes(text)))).toEqual(reference(text));
  });

  it('refuses nesting deeper than the stack with the same SyntaxError', () => {
    expect(() => parseJsonBytes(bytes('['.repeat(100_000)))).toThrow(JsonBytesError);
    expect(() => parseJsonBytes(bytes('['.repeat(100_000)))).toThrow('nesting too deep');
  });

  it('refuses invalid UTF-8 in strings', () => {
    const b = new Uint8Array([...bytes('{"a":"'), 0xff, 0xfe, ...bytes('"}')]);
    expect(() => parseJsonBytes(b)).toThrow('invalid UTF-8');
  });
});
