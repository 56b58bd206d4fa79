/** Identity and order of label sets. */
import type { Labels } from './types';

/** A string equal for equal label sets, whatever the order of their keys. */
export function labelsKey(labels: Labels): string {
  return JSON.stringify(
    Object.keys(labels)
      .sort()
      .map((k) => [k, labels[k]])
  );
}

/**
 * Prometheus' order of label sets (`labels.Compare`), the order a range query's answer comes in: pairs
 * sorted by name, compared name then value, the shorter set first when one is a prefix of the other.
 */
export function compareLabels(a: Labels, b: Labels): number {
  const ka = Object.keys(a).sort();
  const kb = Object.keys(b).sort();
  for (let i = 0; i < Math.min(ka.length, kb.length); i++) {
    if (ka[i] !== kb[i]) return ka[i] < kb[i] ? -1 : 1;
    const va = a[ka[i]];
    const vb = b[kb[i]];
    if (va !== vb) return va < vb ? -1 : 1;
  }
  return ka.length - kb.length;
}
