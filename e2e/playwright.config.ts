// Playwright drives Debian's Chromium (/usr/bin/chromium) against a real torii-server serving
// the demo app, with a real SMTP sink; fixtures/global-setup.ts starts both.
//
// Run through `cargo xtask test` (or `cargo xtask e2e`), which builds the server and the app
// and sets TORII_SERVER_BIN and TORII_STATIC_DIR.

import { defineConfig } from '@playwright/test';

export default defineConfig({
  testDir: './tests',
  globalSetup: './fixtures/global-setup.ts',
  globalTeardown: './fixtures/global-teardown.ts',
  fullyParallel: true,
  workers: 2,
  retries: 0,
  forbidOnly: !!process.env.CI,
  reporter: 'list',
  timeout: 30_000,
  expect: { timeout: 10_000 },
  use: {
    // Set by the global setup; workers inherit it.
    baseURL: process.env.TORII_E2E_URL,
    trace: 'retain-on-failure',
    launchOptions: {
      executablePath: '/usr/bin/chromium',
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
        '--disable-quic',
      ],
    },
  },
  projects: [{ name: 'chromium' }],
});
