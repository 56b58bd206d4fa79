/** The `--frontier --report` page (placeholder until the frontier report lands). */
import type { FrontierResult } from './frontier';

export function frontierReportHtml(
  f: FrontierResult,
  meta: { title: string; command?: string; model?: string }
): string {
  return `<!doctype html><title>${meta.title}</title><pre>${JSON.stringify(f.comparison)}</pre>`;
}
