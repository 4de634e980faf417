// Playwright drives Debian's Chromium (/usr/bin/chromium) against a real torii-server serving
// the demo app, with a real SMTP sink and a real OpenID provider (oidc-provider);
// fixtures/global-setup.ts starts them.
//
// Run through `cargo xtask test` (or `cargo xtask e2e`), which builds the server and the app
// and sets TORII_SERVER_BIN, TORII_STATIC_DIR and TORII_TEST_POSTGRES_URL.
//
// Projects: `sqlite` runs every spec against a server on SQLite; `postgres` (only when
// TORII_TEST_POSTGRES_URL names a PostgreSQL server to create a database on) and `mariadb`
// (only when TORII_TEST_MYSQL_URL names a MariaDB or MySQL server) run every spec again
// against a server of their own on that database (the screenshots only once); specs that
// start servers of their own put them on their project's database (fixtures/databases.ts);
// `ssr` (only when
// TORII_SSR_SERVER_BIN names the server-rendered demo's binary, with TORII_SSR_STATIC_DIR its
// bundle) runs tests/ssr against it.

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
  projects: [
    // The global setup sets these URLs; workers, which read this file again, inherit them.
    { name: 'sqlite', testIgnore: 'ssr/**', use: { baseURL: process.env.TORII_E2E_URL } },
    ...(process.env.TORII_TEST_POSTGRES_URL
      ? [
          {
            name: 'postgres',
            testIgnore: ['ssr/**', 'screenshots.spec.ts'],
            use: { baseURL: process.env.TORII_E2E_POSTGRES_SERVER_URL },
          },
        ]
      : []),
    ...(process.env.TORII_TEST_MYSQL_URL
      ? [
          {
            name: 'mariadb',
            testIgnore: ['ssr/**', 'screenshots.spec.ts'],
            use: { baseURL: process.env.TORII_E2E_MARIADB_SERVER_URL },
          },
        ]
      : []),
    // The server-rendered demo (e2e/ssr-app), when TORII_SSR_SERVER_BIN names its binary.
    ...(process.env.TORII_SSR_SERVER_BIN
      ? [{ name: 'ssr', testMatch: 'ssr/**/*.spec.ts', use: { baseURL: process.env.TORII_E2E_SSR_URL } }]
      : []),
  ],
});
