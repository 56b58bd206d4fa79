// Template-variable formatting for PromQL, the way Grafana's Prometheus data source does it:
// single values go in as literals, multi/All values become an escaped regex alternation.

export interface VariableLike {
  multi?: boolean;
  includeAll?: boolean;
}

/** Escapes what would break a double-quoted PromQL string. */
export function promqlStringEscape(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"');
}

/** Escapes regex metacharacters for use inside a `=~"..."` matcher (double escaping for the string). */
export function promqlRegexEscape(value: string): string {
  return value.replace(/[\\^$*+?.()|[\]{}]/g, (c) => `\\\\${c}`).replace(/"/g, '\\"');
}

export function formatPromqlVariable(value: string | string[], variable?: VariableLike): string {
  const multiValued = Boolean(variable?.multi || variable?.includeAll);
  if (typeof value === 'string') {
    return multiValued ? promqlRegexEscape(value) : promqlStringEscape(value);
  }
  const escaped = value.map(promqlRegexEscape);
  return escaped.length === 1 ? escaped[0] : `(${escaped.join('|')})`;
}
