// JWT sessions in the browser, on a server of their own: the e2e environment with
// `[environments.session] kind = "jwt"`. The cookie holds a revocable refresh session; the
// page's token (`use_auth().token`) is a short-lived JWT carrying the session's state as it
// was when signed, so a gate the backend requires shows up in the page when the provider
// refreshes (before the token expires, on refocus, or refresh_session()), and so does the
// gate being cleared.

import { expect, test, type Page } from '@playwright/test';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { clearUserGate, requireUserGate, userIdByEmail } from '../fixtures/admin';
import { at, refocus } from '../fixtures/browser';
import { waitForCode } from '../fixtures/mail';
import { forProject, freshDatabase } from '../fixtures/databases';
import { e2eDir, startServer } from '../fixtures/processes';
import { PASSWORD, uniqueEmail } from '../fixtures/users';
import { Dashboard } from './pages/Dashboard';
import { MfaGatePage } from './pages/GatePages';
import { SignUpPage } from './pages/SignUpPage';

interface MeBody {
  user: { email: string } | null;
  session: {
    status: string;
    kind: string;
    gates: { key: string }[];
    currentGate: { key: string } | null;
  } | null;
  token?: string;
}

/** `GET /me` from the page itself, with its cookie, as the app's own code would. */
async function meFromPage(page: Page): Promise<MeBody> {
  return page.evaluate(async () => (await fetch('/me')).json());
}

/** The claims of a JWT's payload (no signature check: the test only reads its times). */
function claimsOf(token: string): { sid: string; iat: number; exp: number } {
  return JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8'));
}

/** A JWT-mode server of its own on a fresh database, with `session` lines added to the
 *  e2e environment's `[environments.session]`. */
async function jwtServer(name: string, session: string) {
  const smtpUrl = process.env.MAIL_SMTP_URL;
  if (!smtpUrl) throw new Error('MAIL_SMTP_URL is not set: the global setup starts the SMTP sink');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `torii-e2e-${name}-`));
  const baseConfig = fs.readFileSync(path.join(e2eDir, 'fixtures', 'torii.toml'), 'utf8');
  const environments = baseConfig.split('[[environments]]').length - 1;
  expect(environments, 'fixtures/torii.toml declares one environment').toBe(1);
  expect(baseConfig, 'fixtures/torii.toml has no session table of its own').not.toContain(
    '[environments.session]',
  );
  // A sub-table belongs to the last `[[environments]]` entry: the file's only one.
  const configFile = path.join(dir, 'torii-jwt.toml');
  fs.writeFileSync(
    configFile,
    `${baseConfig.trimEnd()}\n\n[environments.session]\nkind = "jwt"\n${session}`,
  );
  const database = freshDatabase(name);
  const server = await startServer({
    name: forProject(`torii-server-${name}`),
    databaseUrl: database.url,
    smtpUrl,
    configFile,
  });
  return {
    server,
    async stop() {
      await server.stop();
      database.drop();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Signs a new user up through the form; resolves on the dashboard. */
async function signUpThroughTheForm(page: Page, url: string, email: string): Promise<void> {
  const signUp = new SignUpPage(page);
  await page.goto(`${url}/sign-up`);
  await signUp.fillDetails(email, PASSWORD);
  await signUp.consent.check();
  await signUp.submit.click();
  await expect(signUp.code).toBeVisible();
  await signUp.enterCode(await waitForCode(email));
  await expect(new Dashboard(page).userEmail).toHaveText(email);
}

/** The tokens of every `POST /v1/session/refresh` answer a page receives, in order. */
function recordRefreshes(page: Page): string[] {
  const tokens: string[] = [];
  page.on('response', async (response) => {
    if (
      new URL(response.url()).pathname === '/v1/session/refresh' &&
      response.request().method() === 'POST'
    ) {
      const body = (await response.json().catch(() => ({}))) as MeBody;
      tokens.push(body.token ?? `(${response.status()})`);
    }
  });
  return tokens;
}

test('a JWT session: the page gets its token; a refresh brings a required gate, and its clearing', async ({
  page,
  playwright,
}) => {
  // A server start and a sign-up through the form.
  test.setTimeout(60_000);
  const smtpUrl = process.env.MAIL_SMTP_URL;
  if (!smtpUrl) throw new Error('MAIL_SMTP_URL is not set: the global setup starts the SMTP sink');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'torii-e2e-jwt-'));
  const baseConfig = fs.readFileSync(path.join(e2eDir, 'fixtures', 'torii.toml'), 'utf8');
  const environments = baseConfig.split('[[environments]]').length - 1;
  expect(environments, 'fixtures/torii.toml declares one environment').toBe(1);
  expect(baseConfig, 'fixtures/torii.toml has no session table of its own').not.toContain(
    '[environments.session]',
  );
  // A sub-table belongs to the last `[[environments]]` entry: the file's only one.
  const configFile = path.join(dir, 'torii-jwt.toml');
  fs.writeFileSync(configFile, `${baseConfig.trimEnd()}\n\n[environments.session]\nkind = "jwt"\n`);

  const database = freshDatabase('jwt');
  const server = await startServer({
    name: forProject('torii-server-jwt'),
    databaseUrl: database.url,
    smtpUrl,
    configFile,
  });
  const backend = await playwright.request.newContext({ baseURL: server.url });
  try {
    const signUp = new SignUpPage(page);
    const dashboard = new Dashboard(page);
    const mfa = new MfaGatePage(page);
    const email = uniqueEmail('jwt');

    await page.goto(`${server.url}/sign-up`);
    await signUp.fillDetails(email, PASSWORD);
    await signUp.consent.check();
    await signUp.submit.click();
    await expect(signUp.code).toBeVisible();
    await signUp.enterCode(await waitForCode(email));
    await expect(dashboard.userEmail).toHaveText(email);

    // The session is a JWT session, and /me hands the page a JWT signed from the refresh
    // session that the HttpOnly cookie holds.
    const me = await meFromPage(page);
    expect(me.session).toMatchObject({ kind: 'jwt', status: 'active', gates: [] });
    const token = me.token ?? '';
    expect(token.split('.'), 'a compact JWS').toHaveLength(3);
    const claims = claimsOf(token);
    expect(claims.exp - claims.iat, 'the default JWT lifetime').toBe(60);
    const cookie = (await page.context().cookies(server.url)).find(
      (c) => c.name === 'torii_session',
    );
    expect(cookie?.httpOnly).toBe(true);
    expect(cookie?.value, 'an opaque refresh session, not the JWT').not.toContain('.');
    // use_auth().token: the dashboard shows the end of it (the signature).
    await expect(page.getByTestId('session-kind')).toHaveText('JWT');
    await expect(page.getByTestId('session-token')).toHaveText(/^….{16}$/);

    // The application's backend requires a gate. The refresh session knows at once; the
    // page's token still says what it said until the provider refreshes it.
    const userId = await userIdByEmail(backend, email);
    await requireUserGate(backend, userId, 'mfa_enrollment');
    await expect
      .poll(async () => (await meFromPage(page)).session?.status, { timeout: 5_000 })
      .toBe('pending');
    await expect(dashboard.userEmail).toHaveText(email);

    // Back in the foreground, the provider refreshes the JWT session: pending, to the gate.
    await refocus(page, 'refresh');
    await expect(page).toHaveURL(at('/gates/mfa'));
    await expect(mfa.heading).toBeVisible();
    await expect(dashboard.root).toBeHidden();
    const pending = await meFromPage(page);
    expect(pending.session).toMatchObject({
      kind: 'jwt',
      status: 'pending',
      currentGate: { key: 'mfa_enrollment' },
    });
    expect(pending.token, 'the refresh re-issued the token').not.toBe(token);

    // Cleared by the backend; "Check again" refreshes the session and the dashboard returns.
    await clearUserGate(backend, userId, 'mfa_enrollment');
    const refreshed = page.waitForResponse(
      (response) =>
        new URL(response.url()).pathname === '/v1/session/refresh' &&
        response.request().method() === 'POST' &&
        response.status() === 200,
    );
    await mfa.checkAgain.click();
    const active = (await (await refreshed).json()) as MeBody;
    await expect(dashboard.userEmail).toHaveText(email);
    await expect(page).toHaveURL(at('/'));
    expect(active.session).toMatchObject({ kind: 'jwt', status: 'active', gates: [] });
    // The page holds the re-issued token.
    expect(active.token).not.toBe(pending.token);
    await expect(page.getByTestId('session-token')).toHaveText(`…${(active.token ?? '').slice(-16)}`);
  } finally {
    await backend.dispose();
    await server.stop();
    database.drop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('a JWT session keeps working across token lifetimes, and a sign-out in one tab stops the other', async ({
  page,
  context,
}) => {
  // Three lifetimes of 10 seconds, then a second tab through one more.
  test.setTimeout(120_000);
  const { server, stop } = await jwtServer('jwt-short', 'jwt_lifetime_secs = 10\n');
  try {
    const dashboard = new Dashboard(page);
    const email = uniqueEmail('jwt-short');
    const refreshes = recordRefreshes(page);
    await signUpThroughTheForm(page, server.url, email);
    const signedInAt = page.url();
    const first = await meFromPage(page);
    expect(claimsOf(first.token ?? '').exp - claimsOf(first.token ?? '').iat).toBe(10);

    // Across three lifetimes the provider renews the token before each expires (at two
    // thirds of its life), without anything visible changing.
    await expect
      .poll(() => new Set(refreshes).size, { timeout: 45_000, intervals: [500] })
      .toBeGreaterThanOrEqual(4);
    for (const token of refreshes) {
      expect(token.split('.'), `a JWT, not an error: ${token}`).toHaveLength(3);
      const claims = claimsOf(token);
      expect(claims.exp - claims.iat).toBe(10);
      expect(claims.sid).toBe(claimsOf(first.token ?? '').sid);
    }
    // Each signed before the one it replaced had expired.
    const issued = [first.token ?? '', ...refreshes].map((token) => claimsOf(token));
    for (let i = 1; i < issued.length; i += 1) {
      expect(issued[i]?.iat ?? 0).toBeLessThan(issued[i - 1]?.exp ?? 0);
    }
    await expect(dashboard.userEmail).toHaveText(email);
    expect(page.url(), 'no navigation meanwhile').toBe(signedInAt);
    // use_auth().token follows: the page shows the end of the latest token.
    await expect
      .poll(async () => {
        const latest = refreshes[refreshes.length - 1] ?? '';
        return (await page.getByTestId('session-token').textContent()) === `…${latest.slice(-16)}`;
      })
      .toBe(true);

    // A second tab on the same session refreshes too.
    const other = await context.newPage();
    const otherRefreshes = recordRefreshes(other);
    const otherDashboard = new Dashboard(other);
    await other.goto(server.url);
    await expect(otherDashboard.userEmail).toHaveText(email);
    await expect
      .poll(() => otherRefreshes.length, { timeout: 15_000, intervals: [500] })
      .toBeGreaterThanOrEqual(1);

    // Signed out in the first tab: the other shows it within the bound and stops refreshing.
    await dashboard.signOut.click();
    await expect(dashboard.root).toBeHidden();
    await expect(otherDashboard.root).toBeHidden({ timeout: 5_000 });
    await expect(other.getByTestId('session-token')).toHaveCount(0);
    const seen = otherRefreshes.length;
    // A live timer would fire within 2/3 of a lifetime (under 7 s); none may come over a
    // whole lifetime and more. Absence can only be seen over a window, so this one waits.
    await other.waitForTimeout(12_000);
    expect(otherRefreshes.slice(seen), 'no refresh after the sign-out').toEqual([]);
    await expect(otherDashboard.root).toBeHidden();
    const after = await meFromPage(other);
    expect(after.user).toBeNull();
  } finally {
    await stop();
  }
});
