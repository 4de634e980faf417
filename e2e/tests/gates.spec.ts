// Session gates end to end: the test plays the application's backend and requires or clears
// gates with the secret-key API; the demo app's <RedirectToGates> sends the pending session
// to the gate's page through the app's router, the ready-made <AcceptTerms> and
// <VerifyEmail> screens clear the built-in gates, and refresh_session() brings the dashboard
// back. The last spec runs a server of its own to bump the Terms version across a restart.

import { expect, test, type APIRequestContext, type Page } from '@playwright/test';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { clearUserGate, requireUserGate, userIdByEmail } from '../fixtures/admin';
import { messagesFor, waitForCode } from '../fixtures/mail';
import { forProject, freshDatabase } from '../fixtures/databases';
import { e2eDir, startServer } from '../fixtures/processes';
import { PASSWORD, signUpViaApi, uniqueEmail } from '../fixtures/users';
import { Dashboard } from './pages/Dashboard';
import { AcceptTermsPage, GatePendingPanel, MfaGatePage, VerifyEmailPage } from './pages/GatePages';
import { SignUpPage } from './pages/SignUpPage';

/** Matches a page URL whose path (without query or fragment) is exactly `pathname`. */
function at(pathname: string): RegExp {
  const escaped = pathname.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  return new RegExp(`^https?://[^/]+${escaped}$`);
}

/**
 * What a tab coming back to the foreground fires, without reloading anything; resolves once
 * the provider's refetch of `/me` has been answered.
 */
async function refocus(page: Page): Promise<void> {
  const refetched = page.waitForResponse(
    (response) =>
      new URL(response.url()).pathname === '/me' && response.request().method() === 'GET',
  );
  await page.evaluate(() => {
    window.dispatchEvent(new Event('focus'));
    document.dispatchEvent(new Event('visibilitychange'));
  });
  await refetched;
}

/** A value on `window`: it survives client-side navigation, never a page load. */
async function setMarker(page: Page, value: number): Promise<void> {
  await page.evaluate((v) => Reflect.set(window, '__marker', v), value);
}

async function marker(page: Page): Promise<unknown> {
  return page.evaluate(() => Reflect.get(window, '__marker'));
}

interface SignedInUser {
  id: string;
  email: string;
}

/** A new user, signed in in the page's context, on the dashboard. */
async function signedInOnDashboard(
  page: Page,
  request: APIRequestContext,
): Promise<SignedInUser> {
  const { email } = await signUpViaApi(page.request);
  const id = await userIdByEmail(request, email);
  await page.goto('/');
  await expect(new Dashboard(page).userEmail).toHaveText(email);
  return { id, email };
}

test('a gate required through the API sends the user to its page on refocus; cleared and checked again, the dashboard returns', async ({
  page,
  request,
}) => {
  const user = await signedInOnDashboard(page, request);
  const dashboard = new Dashboard(page);
  const mfa = new MfaGatePage(page);

  await requireUserGate(request, user.id, 'mfa_enrollment');
  await refocus(page);

  await expect(dashboard.root).toBeHidden();
  await expect(page).toHaveURL(at('/gates/mfa'));
  await expect(mfa.heading).toBeVisible();

  // Checking before the backend cleared the gate keeps the user here.
  await mfa.checkAgain.click();
  await expect(page.getByRole('status').filter({ hasText: 'Still waiting' })).toBeVisible();
  await expect(page).toHaveURL(at('/gates/mfa'));

  // A reload on the gate's page stays there.
  await page.reload();
  await expect(mfa.heading).toBeVisible();
  await expect(dashboard.root).toBeHidden();

  await clearUserGate(request, user.id, 'mfa_enrollment');
  await mfa.checkAgain.click();

  await expect(dashboard.userEmail).toHaveText(user.email);
  await expect(page).toHaveURL(at('/'));
  await expect(mfa.root).toBeHidden();
});

test('two gates are handled one after the other, in the server order', async ({
  page,
  request,
}) => {
  const user = await signedInOnDashboard(page, request);
  const dashboard = new Dashboard(page);
  const terms = new AcceptTermsPage(page);
  const mfa = new MfaGatePage(page);

  // Required in the opposite order: the server puts legal_acceptance first all the same.
  await requireUserGate(request, user.id, 'mfa_enrollment');
  await requireUserGate(request, user.id, 'legal_acceptance');
  const me = await (await page.request.get('/me')).json();
  expect(me.session).toMatchObject({
    status: 'pending',
    gates: [{ key: 'legal_acceptance' }, { key: 'mfa_enrollment' }],
    currentGate: { key: 'legal_acceptance' },
  });

  await refocus(page);
  await expect(page).toHaveURL(at('/legal'));
  await expect(terms.heading).toBeVisible();
  await expect(terms.termsLink).toHaveAttribute('href', 'https://example.com/terms');
  await expect(terms.privacyLink).toHaveAttribute('href', 'https://example.com/privacy');
  await expect(dashboard.root).toBeHidden();

  await terms.accept.click();

  // The next gate: no dashboard in between.
  await expect(page).toHaveURL(at('/gates/mfa'));
  await expect(mfa.heading).toBeVisible();
  await expect(dashboard.root).toBeHidden();
  const after = await (await page.request.get('/me')).json();
  expect(after.session).toMatchObject({
    status: 'pending',
    gates: [{ key: 'mfa_enrollment' }],
    currentGate: { key: 'mfa_enrollment' },
  });

  await clearUserGate(request, user.id, 'mfa_enrollment');
  await mfa.checkAgain.click();
  await expect(dashboard.userEmail).toHaveText(user.email);
  await expect(page).toHaveURL(at('/'));
});

test('a gate with no URL navigates nowhere, shows the signed-out shell and warns once', async ({
  page,
  request,
}) => {
  const warnings: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'warning' && message.text().includes('other_gate')) {
      warnings.push(message.text());
    }
  });
  const user = await signedInOnDashboard(page, request);
  const dashboard = new Dashboard(page);
  const pending = new GatePendingPanel(page);
  await setMarker(page, 1);

  await requireUserGate(request, user.id, 'other_gate');
  await refocus(page);
  await expect(pending.root).toBeVisible();
  await expect(pending.gateKey).toHaveText('other_gate');
  await expect(dashboard.root).toBeHidden();

  // More refetches with the same gate.
  for (let i = 0; i < 3; i++) await refocus(page);

  // The gate cleared and required again: <RedirectToGates> mounts anew, and still keeps
  // quiet about a key it already warned about on this page load.
  await clearUserGate(request, user.id, 'other_gate');
  await refocus(page);
  await expect(dashboard.userEmail).toHaveText(user.email);
  await requireUserGate(request, user.id, 'other_gate');
  await refocus(page);
  await expect(pending.root).toBeVisible();
  await refocus(page);
  // Lets any effect still queued run (and log) before counting.
  await page.evaluate(() => new Promise((resolve) => requestAnimationFrame(resolve)));

  await expect(page).toHaveURL(at('/'));
  expect(await marker(page), 'no page load happened').toBe(1);
  expect(warnings).toHaveLength(1);
  expect(warnings[0]).toContain('gate_urls');
});

test('the redirect goes through the app router (navigate), not a page load', async ({
  page,
  request,
}) => {
  const user = await signedInOnDashboard(page, request);
  const mfa = new MfaGatePage(page);
  const dashboard = new Dashboard(page);
  await setMarker(page, 1);

  await requireUserGate(request, user.id, 'mfa_enrollment');
  await refocus(page);

  await expect(page).toHaveURL(at('/gates/mfa'));
  await expect(mfa.heading).toBeVisible();
  expect(await marker(page), 'the document survived the redirect').toBe(1);

  // The router pushed a history entry; going back is handled in the page too.
  await page.goBack();
  await expect(page).toHaveURL(at('/'));
  await expect(mfa.root).toBeHidden();
  await expect(dashboard.root).toBeHidden();
  expect(await marker(page)).toBe(1);
});

test('a pending session never renders the SignedIn content on a cold load', async ({
  page,
  request,
}) => {
  // Records whether the dashboard is ever added to the document, however briefly.
  await page.addInitScript(() => {
    Reflect.set(window, '__dashboardSeen', false);
    const isDashboard = (node: Node) =>
      node instanceof Element &&
      (node.matches('[data-testid="dashboard"]') ||
        node.querySelector('[data-testid="dashboard"]') !== null);
    new MutationObserver((records) => {
      for (const record of records) {
        if (Array.from(record.addedNodes).some(isDashboard)) {
          Reflect.set(window, '__dashboardSeen', true);
        }
      }
    }).observe(document, { childList: true, subtree: true });
  });
  const { email } = await signUpViaApi(page.request);
  const id = await userIdByEmail(request, email);
  await requireUserGate(request, id, 'mfa_enrollment');
  const mfa = new MfaGatePage(page);
  const dashboard = new Dashboard(page);
  const dashboardSeen = () => page.evaluate(() => Reflect.get(window, '__dashboardSeen'));

  await page.goto('/');
  await expect(page).toHaveURL(at('/gates/mfa'));
  await expect(mfa.heading).toBeVisible();
  expect(await dashboardSeen(), 'the dashboard was in the DOM').toBe(false);

  // The observer does see the dashboard once it is allowed: the check above can fail.
  await clearUserGate(request, id, 'mfa_enrollment');
  await mfa.checkAgain.click();
  await expect(dashboard.userEmail).toHaveText(email);
  expect(await dashboardSeen()).toBe(true);
});

test('the email_verification gate is cleared with the emailed code on /verify-email', async ({
  page,
  request,
}) => {
  const user = await signedInOnDashboard(page, request);
  const dashboard = new Dashboard(page);
  const verify = new VerifyEmailPage(page);
  const mailsBefore = (await messagesFor(user.email)).length;

  await requireUserGate(request, user.id, 'email_verification');
  await refocus(page);
  await expect(page).toHaveURL(at('/verify-email'));
  await expect(verify.heading).toBeVisible();

  await verify.sendCode.click();
  await expect(verify.sentTo).toContainText(user.email);
  const code = await waitForCode(user.email, { after: mailsBefore });

  const wrong = String((Number(code) + 1) % 1_000_000).padStart(6, '0');
  await verify.enterCode(wrong);
  await expect(verify.error).toContainText(/tries left/i);
  await expect(dashboard.root).toBeHidden();

  await verify.enterCode(code);
  await expect(dashboard.userEmail).toHaveText(user.email);
  await expect(page).toHaveURL(at('/'));
  const me = await (await page.request.get('/me')).json();
  expect(me.user).toMatchObject({ email: user.email, emailVerified: true });
  expect(me.session).toMatchObject({ status: 'active', gates: [], currentGate: null });
});

test('a Terms version bump sends a signed-up user to /legal after a restart; accepting leads to the dashboard', async ({
  page,
}) => {
  // Two server starts and a sign-up through the form.
  test.setTimeout(90_000);
  const smtpUrl = process.env.MAIL_SMTP_URL;
  if (!smtpUrl) throw new Error('MAIL_SMTP_URL is not set: the global setup starts the SMTP sink');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'torii-e2e-terms-'));
  const database = freshDatabase('terms');
  const databaseUrl = database.url;
  const baseConfig = fs.readFileSync(path.join(e2eDir, 'fixtures', 'torii.toml'), 'utf8');
  /** The e2e environment with its Terms at `version`. */
  const configWithTerms = (version: string): string => {
    const marker = '[[environments]]\n';
    expect(baseConfig, 'fixtures/torii.toml declares one environment').toContain(marker);
    const file = path.join(dir, `torii-terms-${version}.toml`);
    fs.writeFileSync(file, baseConfig.replace(marker, `${marker}terms_version = "${version}"\n`));
    return file;
  };

  let server = await startServer({
    name: forProject('torii-server-terms-2026-01'),
    databaseUrl,
    smtpUrl,
    configFile: configWithTerms('2026-01'),
  });
  try {
    const dashboard = new Dashboard(page);
    const signUp = new SignUpPage(page);
    const terms = new AcceptTermsPage(page);
    const environment = async () =>
      (await (await page.request.get(`${server.url}/v1/environment`)).json()) as {
        legal: { version?: string };
      };
    expect((await environment()).legal.version).toBe('2026-01');

    // Signing up accepts the Terms of the day.
    const email = uniqueEmail('terms');
    await page.goto(`${server.url}/sign-up`);
    await signUp.fillDetails(email, PASSWORD);
    await signUp.consent.check();
    await signUp.submit.click();
    await expect(signUp.code).toBeVisible();
    await signUp.enterCode(await waitForCode(email));
    await expect(dashboard.userEmail).toHaveText(email);

    // New Terms: same database, same address, so the browser's session cookie still applies.
    const port = Number(new URL(server.url).port);
    await server.stop();
    server = await startServer({
      name: forProject('torii-server-terms-2026-06'),
      databaseUrl,
      smtpUrl,
      configFile: configWithTerms('2026-06'),
      port,
    });
    expect((await environment()).legal.version).toBe('2026-06');

    await page.goto(`${server.url}/`);
    await expect(page).toHaveURL(at('/legal'));
    await expect(terms.heading).toBeVisible();
    await expect(page.getByText('Current version: 2026-06')).toBeVisible();
    await expect(dashboard.root).toBeHidden();

    await terms.accept.click();
    await expect(dashboard.userEmail).toHaveText(email);
    await expect(page).toHaveURL(at('/'));

    // Accepted for good: a cold load goes straight to the dashboard.
    await page.reload();
    await expect(dashboard.userEmail).toHaveText(email);
    await expect(page).toHaveURL(at('/'));
  } finally {
    await server.stop();
    database.drop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
