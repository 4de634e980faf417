// JWT sessions in the browser, on a server of their own: the e2e environment with
// `[environments.session] kind = "jwt"`. The token carries the session's state as it was
// when issued, so a gate the backend requires shows up only when the provider refreshes the
// session (on refocus, or refresh_session()), and so does the gate being cleared.

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

    // The session is a JWT, and /me hands the page the token: the session cookie itself.
    const me = await meFromPage(page);
    expect(me.session).toMatchObject({ kind: 'jwt', status: 'active', gates: [] });
    const token = me.token ?? '';
    expect(token.split('.'), 'a compact JWS').toHaveLength(3);
    const cookie = (await page.context().cookies(server.url)).find(
      (c) => c.name === 'torii_session',
    );
    expect(cookie?.httpOnly).toBe(true);
    expect(cookie?.value).toBe(token);
    // use_auth().token: the dashboard shows the end of it (the signature).
    await expect(page.getByTestId('session-kind')).toHaveText('JWT');
    await expect(page.getByTestId('session-token')).toHaveText(`…${token.slice(-16)}`);

    // The application's backend requires a gate. The token still says what it said.
    const userId = await userIdByEmail(backend, email);
    await requireUserGate(backend, userId, 'mfa_enrollment');
    expect((await meFromPage(page)).session).toMatchObject({ status: 'active', gates: [] });

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
    await mfa.checkAgain.click();
    await expect(dashboard.userEmail).toHaveText(email);
    await expect(page).toHaveURL(at('/'));
    const active = await meFromPage(page);
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
