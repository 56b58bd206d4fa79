// The e2e suite's clock: one fixed instant for the backend process and the page, so a run on any date reads the
// same demo data, gets the same advice and draws the same panel (issue 21: the suite used to read the wall clock
// and failed on days the demo's last week held no anomaly).

/** A Wednesday afternoon (UTC): the instant every e2e case runs at. */
export const E2E_NOW_MS = Date.UTC(2026, 2, 4, 14, 0, 0);

/**
 * Replaces the process's Date with one whose "now" is `ms` for good (`new Date()`, `Date.now()`); dates built
 * from arguments, `Date.UTC` and `Date.parse` are the real ones. Used by the backend child (backend-main.ts):
 * the backend's own clock seams (DemoSource `now`, startServer `loopNow`) are given the same instant, and this
 * covers the readers that have none yet (recommendation expiry in the routes, the actuation service, the audit
 * log's times). The page gets the same instant from Playwright's `clock.setFixedTime`.
 */
export function installFixedClock(ms: number): void {
  if (!Number.isFinite(ms)) {
    throw new Error(`the e2e clock needs a finite instant in ms, got ${ms}`);
  }
  const RealDate = Date;
  class FixedDate extends RealDate {
    constructor(...args: ConstructorParameters<typeof Date> | []) {
      if (args.length === 0) {
        super(ms);
      } else {
        super(...(args as [string | number | Date]));
      }
    }

    static override now(): number {
      return ms;
    }
  }
  globalThis.Date = FixedDate as DateConstructor;
}
