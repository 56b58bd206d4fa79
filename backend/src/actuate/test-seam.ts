/**
 * TEST SEAM, read only by the durability test: PRESCALER_TEST_CRASH_AFTER_DECIDE makes an apply stop
 * for good between "decided" and "done" so the test can SIGKILL the process at exactly that point.
 * `1` or `before-act`: after the audit row is written, before the actuator is called;
 * `after-act`: after the actuator succeeded, before the outcome is written. Unset: does nothing.
 */
export async function testSeamCrashPoint(phase: 'before-act' | 'after-act'): Promise<void> {
  const v = process.env.PRESCALER_TEST_CRASH_AFTER_DECIDE;
  if (!v) return;
  const wanted = v === '1' ? 'before-act' : v;
  if (wanted !== phase) return;
  process.stderr.write(`PRESCALER_TEST_SEAM holding ${phase}\n`);
  await new Promise<never>(() => {
    setInterval(() => undefined, 1 << 30);
  });
}
