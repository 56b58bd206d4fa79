/** What the two worker threads (training, what-if replays) share: how they load and how they yield. */
import * as os from 'node:os';

/**
 * The `eval` source that loads `file` in a worker: compiled JavaScript needs nothing; TypeScript (tsx,
 * jest) registers tsx's CommonJS hook first.
 */
export function workerSource(file: string): string {
  const lines: string[] = [];
  if (file.endsWith('.ts')) lines.push(`require(${JSON.stringify(require.resolve('tsx/cjs'))});`);
  lines.push(`require(${JSON.stringify(file)});`);
  return lines.join('\n');
}

/**
 * Lowest CPU priority for the calling thread only (Linux nice values are per thread): on a busy machine
 * the threads that serve requests go first and the worker takes the leftovers. Where that is not
 * permitted or not supported, the worker runs at normal priority.
 */
export function lowerThreadPriority(): void {
  try {
    os.setPriority(os.constants.priority.PRIORITY_LOW);
  } catch {
    // normal priority it is
  }
}
