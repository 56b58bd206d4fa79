/**
 * PromQL's `=~` and `!~` for the demo source, matched as Prometheus matches them: RE2 syntax, fully
 * anchored (`^(?s:…)$`, so `.` matches a newline too) and in linear time. JavaScript's RegExp backtracks:
 * `(.*.*.*.*.*.*.*.*.*.*.*.*.*.*.*)X` took 20 s on the event loop. Here the pattern is parsed into a
 * Thompson NFA and run as a Pike VM (Russ Cox, "Regular Expression Matching: the Virtual Machine
 * Approach"): every input character advances each NFA state at most once, so a match costs
 * O(pattern × input) whatever the pattern.
 *
 * The syntax is RE2's as far as a label matcher needs it: literals and escapes, `.`, classes (`[a-z]`,
 * `[^…]`, `[[:alpha:]]`, `\d \w \s` and their negations), groups (`(…)`, `(?:…)`, `(?P<name>…)`), flags
 * `i s m U` (`(?i)`, `(?i:…)`), alternation, `* + ? {n} {n,} {n,m}` (lazy forms too), `^ $ \A \z`. What RE2
 * has and this does not (`\b`, `\B`, `\p{…}`, `\Q…\E`, `\C`) is refused with a RegexSyntaxError naming it,
 * as is what RE2 itself refuses (backreferences, lookaround, repeats over 1000).
 */
import { Parser, RegexSyntaxError } from './re2-parse';
import { Compiler, run } from './re2-vm';

export { RegexSyntaxError } from './re2-parse';

/** Characters a pattern may have: enough for a dashboard variable's `pod-1|pod-2|…` of thousands of pods. */
export const MAX_PATTERN_LENGTH = 100_000;

/**
 * A test that `value` matches `pattern` as a whole, as Prometheus' `=~` does; throws RegexSyntaxError
 * for a pattern RE2 (or this subset of it) does not accept.
 */
export function compileAnchored(pattern: string): (value: string) => boolean {
  if (pattern.length > MAX_PATTERN_LENGTH)
    throw new RegexSyntaxError(`expression longer than ${MAX_PATTERN_LENGTH} characters`);
  const tree = new Parser(pattern).parse();
  const c = new Compiler();
  c.compile(tree);
  c.prog.push({ op: 'match' });
  const prog = c.prog;
  return (value) =>
    run(
      prog,
      Array.from(value, (ch) => ch.codePointAt(0)!)
    );
}
