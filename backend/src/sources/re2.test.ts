import { compileAnchored, RegexSyntaxError } from './re2';

const matches = (pattern: string, value: string) => compileAnchored(pattern)(value);

describe('compileAnchored', () => {
  // Patterns where RE2 and JavaScript agree: each value is checked against `^(?:p)$` with the `s` flag.
  const AGREE: Array<[string, string[]]> = [
    ['web', ['web', 'webx', 'xweb', '', 'WEB']],
    ['web|api', ['web', 'api', 'webapi', 'we', '']],
    ['w.b', ['web', 'wab', 'w\nb', 'wb', 'weeb']],
    ['.*', ['', 'anything', 'multi\nline']],
    ['.+', ['', 'x']],
    ['a*b+c?', ['b', 'ab', 'aabbc', 'c', 'abcc', '']],
    ['(ab)+', ['ab', 'abab', 'aba', '']],
    ['(?:ab|cd)*e', ['e', 'abcde', 'abce', 'cdabe']],
    ['a{3}', ['aa', 'aaa', 'aaaa']],
    ['a{2,}', ['a', 'aa', 'aaaaaa']],
    ['a{2,4}', ['a', 'aa', 'aaaa', 'aaaaa']],
    ['a{0}b', ['b', 'ab']],
    ['[a-c]+', ['abc', 'cab', 'abd', '']],
    ['[^a-c]+', ['xyz', 'xaz', '']],
    ['[a-]+', ['a-a', 'b']],
    ['\\d+\\.\\d+', ['1.5', '1x5', '10.25']],
    ['\\w+-\\W', ['ab_1-!', 'ab-c']],
    ['\\s?x\\S', ['xa', ' xa', '  xa', 'x ']],
    ['[\\d\\s]+', ['1 2', '1a']],
    ['a\\.b', ['a.b', 'axb']],
    ['x*?y+?', ['xxy', 'y']],
    ['(a|ab)(c|bcd)(d*)', ['abcd', 'acd', 'abc']],
    ['web-.*', ['web-1', 'web', 'api-1']],
    ['(web|api)-[0-9a-f]{3,5}', ['web-abc', 'api-12345', 'web-ab', 'api-123456']],
    ['a|', ['a', '', 'b']],
    ['()', ['', 'a']],
    ['\\x41\\x42', ['AB', 'ab']],
    ['[\\x41-\\x43]+', ['ABC', 'ABD']],
    ['é+', ['ééé', 'e']],
    ['😀.', ['😀a', '😀😀', 'a😀']],
    ['[😀-😂]', ['😁', '😃']],
  ];

  it.each(AGREE)('%j agrees with an anchored JavaScript RegExp', (pattern, values) => {
    const js = new RegExp(`^(?:${pattern})$`, 'su');
    for (const v of values) expect([v, matches(pattern, v)]).toEqual([v, js.test(v)]);
  });

  it('is anchored at both ends, as PromQL matchers are', () => {
    expect(matches('eb', 'web')).toBe(false);
    expect(matches('we', 'web')).toBe(false);
    expect(matches('^web$', 'web')).toBe(true);
    expect(matches('\\Aweb\\z', 'web')).toBe(true);
  });

  it('reads RE2 syntax JavaScript does not', () => {
    expect(matches('(?i)WEB', 'web')).toBe(true);
    expect(matches('(?i)[^a]', 'A')).toBe(false); // folded, then negated
    expect(matches('x(?i:AB)c', 'xabc')).toBe(true);
    expect(matches('x(?i:AB)c', 'xabC')).toBe(false);
    expect(matches('(?P<name>web)-\\d', 'web-1')).toBe(true);
    expect(matches('[[:alpha:]]+[[:digit:]]', 'abc1')).toBe(true);
    expect(matches('[[:^digit:]]+', 'abc')).toBe(true);
    expect(matches('(?-s).', '\n')).toBe(false);
    expect(matches('(?m)a$\\n^b', 'a\nb')).toBe(true);
    expect(matches('(?U)a+', 'aaa')).toBe(true);
    expect(matches('a{,2}', 'a{,2}')).toBe(true); // not a repeat: a literal, as in RE2
    expect(matches('\\{', '{')).toBe(true);
    expect(matches('[]a]+', ']a]')).toBe(true); // a leading ] is a member
    expect(matches('\\x{1F600}\\x{42}', '😀B')).toBe(true);
  });

  it.each([
    ['(', /missing closing \)/],
    ['a)', /unexpected \)/],
    ['[a', /missing closing \]/],
    ['*a', /missing argument to repetition operator/],
    ['a**', /invalid nested repetition operator/],
    ['a{1001}', /repeat count over 1000/],
    ['a{3,2}', /invalid repeat count/],
    ['[z-a]', /invalid character class range/],
    ['(?=a)', /lookaround/],
    ['(?<!a)b', /lookaround|invalid named capture/],
    ['\\1', /invalid escape sequence \\1/],
    ['\\bweb\\b', /\\b is not supported/],
    ['\\p{Greek}', /\\p is not supported/],
    ['a\\', /trailing backslash/],
    ['(?x)a', /unknown group flag x/],
    ['[[:nope:]]', /invalid character class range/],
    ['((a{1000}){1000})', /expression too large/],
    ['('.repeat(5000) + ')'.repeat(5000), /nested over 1000 deep/],
  ])('refuses %j with a RegexSyntaxError', (pattern, re) => {
    expect(() => compileAnchored(pattern)).toThrow(RegexSyntaxError);
    expect(() => compileAnchored(pattern)).toThrow(re);
  });

  it('matches the patterns that make a backtracking engine take seconds, at once', () => {
    // [pattern, a value it does not match, one it does]
    const hostile: Array<[string, string, string]> = [
      ['(.*.*.*.*.*.*.*.*.*.*.*.*.*.*.*)X', 'a'.repeat(200), 'a'.repeat(200) + 'X'],
      ['(a*)*b', 'a'.repeat(10_000), 'a'.repeat(10_000) + 'b'],
      ['(a|a)*b', 'a'.repeat(10_000), 'a'.repeat(10_000) + 'b'],
      ['(a|aa)+', 'a'.repeat(5_000) + 'b', 'a'.repeat(5_000)],
      ['(x+x+)+y', 'x'.repeat(10_000), 'x'.repeat(10_000) + 'y'],
    ];
    for (const [pattern, no, yes] of hostile) {
      const t0 = performance.now();
      expect([pattern, matches(pattern, no)]).toEqual([pattern, false]);
      expect([pattern, matches(pattern, yes)]).toEqual([pattern, true]);
      // Generous: linear time is milliseconds here; backtracking is seconds to hours.
      expect(performance.now() - t0).toBeLessThan(2000);
    }
  });

  it('refuses a pattern over 100 000 characters, and parses one just under in linear time', () => {
    expect(() => compileAnchored('a'.repeat(100_001))).toThrow(/longer than 100000 characters/);
    const t0 = performance.now();
    expect(matches('{'.repeat(100_000), '{'.repeat(100_000))).toBe(true); // literal braces, not repeats
    expect(matches('[' + 'a'.repeat(99_000) + ']', 'a')).toBe(true);
    const pods = Array.from({ length: 5000 }, (_, i) => `web-${i}`).join('|'); // a dashboard variable
    expect(pods.length).toBeLessThan(100_000);
    const pod = compileAnchored(`(${pods})`);
    expect([pod('web-4999'), pod('web-5000'), pod('api-1')]).toEqual([true, false, false]);
    expect(performance.now() - t0).toBeLessThan(2000);
  });
});
