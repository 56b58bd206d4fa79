/**
 * How the tests start Debian's Chromium with playwright-core: headless, as root (no sandbox), and with the
 * background networking off, since this machine's closed network refuses those connections.
 */
export const CHROMIUM_LAUNCH = {
  executablePath: '/usr/bin/chromium',
  args: [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--no-first-run',
  ],
};
