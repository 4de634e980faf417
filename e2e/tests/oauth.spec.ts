// Sign-in with a real OpenID provider (oidc-provider, fixtures/oidc-provider.mjs): a new
// user's consent step, a returning user, an email that must not be linked, an unverified
// email that must not sign up (and, where an environment allows it, cannot keep an account
// its address's owner claims), a tampered `state`, and a sign-in started on one server node
// and finished on another that shares its PostgreSQL database.

import { expect, test, type Page } from '@playwright/test';
import fs from 'node:fs';
import path from 'node:path';
import { messagesFor, waitForCode } from '../fixtures/mail';
import { forProject, freshDatabase, sharedDatabase } from '../fixtures/databases';
import { freePort, startServer, type ToriiServer } from '../fixtures/processes';
import { signUpViaApi, uniqueEmail } from '../fixtures/users';
import { Dashboard } from './pages/Dashboard';
import { VerifyEmailPage } from './pages/GatePages';
import { OidcProviderPages } from './pages/OidcProviderPages';
import { PasswordResetCard } from './pages/PasswordResetCard';
import { SignInPage } from './pages/SignInPage';
import { SignUpPage } from './pages/SignUpPage';

/**
 * Rewrites the provider's redirect back to Torii's callback. Playwright routes only the first
 * request of a redirect chain, so a navigation to the provider is fetched here hop by hop
 * (its cookies land in the browser context's jar) until an answer redirects to the callback;
 * the navigation is fulfilled with that answer, its `Location` rewritten.
 */
async function rewriteCallback(page: Page, rewrite: (callback: URL) => URL): Promise<void> {
  const issuer = process.env.OIDC_ISSUER;
  if (!issuer) throw new Error('OIDC_ISSUER is set by the global setup');
  const origin = new URL(issuer).origin;
  await page.route(
    (url) => url.origin === origin,
    async (route) => {
      let url = new URL(route.request().url());
      let response = await route.fetch({ maxRedirects: 0 });
      for (let hop = 0; hop < 10; hop += 1) {
        const location = response.headers().location;
        if (!location) break;
        const target = new URL(location, url);
        if (target.pathname === '/v1/oauth/oidc/callback') {
          const headers = { ...response.headers(), location: rewrite(target).toString() };
          await route.fulfill({ status: response.status(), headers, body: '' });
          return;
        }
        if (target.origin !== origin) break;
        url = target;
        response = await page.request.get(target.toString(), { maxRedirects: 0 });
      }
      await route.fulfill({ response });
    },
  );
}

function providerButton(page: Page) {
  return page.getByRole('button', { name: 'Continue with Test IdP' });
}

async function expectSignedOut(page: Page, base = ''): Promise<void> {
  const me = await page.request.get(`${base}/me`);
  expect(((await me.json()) as { user: unknown }).user).toBeNull();
}

test('a new user accepts the Terms once, then signs in straight through', async ({ page }) => {
  const login = uniqueEmail('oidc');
  const signIn = new SignInPage(page);
  const signUp = new SignUpPage(page);
  const dashboard = new Dashboard(page);
  const idp = new OidcProviderPages(page);

  await signIn.goto();
  await providerButton(page).click();
  await idp.signIn(login, page.getByTestId('oauth-consent'));

  // Back on the app's sign-up route with the consent step; no session before it.
  const consentStep = page.getByTestId('oauth-consent');
  await expect(consentStep).toBeVisible();
  await expect(page).not.toHaveURL(/oauthSignUp/);
  await expectSignedOut(page);
  const continueButton = consentStep.getByRole('button', { name: 'Continue' });
  await expect(continueButton).toBeDisabled();
  await signUp.consent.check();
  await continueButton.click();
  await expect(dashboard.root).toBeVisible();
  await expect(dashboard.userEmail).toHaveText(login);

  // Signed out and back: the provider remembers the user, Torii knows the account.
  await dashboard.signOut.click();
  await expect(dashboard.root).toHaveCount(0);
  await signIn.goto();
  await providerButton(page).click();
  await idp.signIn(login, dashboard.root);
  await expect(dashboard.root).toBeVisible();
  await expect(dashboard.userEmail).toHaveText(login);
  await expect(consentStep).toHaveCount(0);
});

test('an unverified provider email is not linked to the verified account that has it', async ({
  page,
  request,
}) => {
  // The provider has not verified this address; a local account has.
  const email = uniqueEmail('carol+unverified');
  await signUpViaApi(request, email);
  const signIn = new SignInPage(page);

  await signIn.goto();
  await providerButton(page).click();
  await new OidcProviderPages(page).signIn(email, signIn.error);

  await expect(signIn.heading).toBeVisible();
  await expect(signIn.error).toContainText('An account with this email already exists');
  await expect(signIn.error).toContainText('existing method first');
  await expect(page).not.toHaveURL(/oauthError/);
  await expectSignedOut(page);
});

test('a provider account whose email the provider has not verified cannot sign up', async ({
  page,
  request,
}) => {
  // At a provider with self-service accounts anyone can claim this address.
  const email = uniqueEmail('squatter+unverified');
  const signIn = new SignInPage(page);

  await signIn.goto();
  await providerButton(page).click();
  await new OidcProviderPages(page).signIn(email, signIn.error);

  await expect(signIn.heading).toBeVisible();
  await expect(signIn.error).toContainText('has not verified your email address');
  await expect(page).not.toHaveURL(/oauthError/);
  await expectSignedOut(page);
  const users = await request.get(`/v1/admin/users?email=${encodeURIComponent(email)}`, {
    headers: { Authorization: 'Bearer sk_test_e2e' },
  });
  expect(users.status()).toBe(200);
  expect(((await users.json()) as { users: unknown[] }).users).toEqual([]);
});

test('where unverified provider emails may sign up, the address owner takes the account back', async ({
  page,
  browser,
}) => {
  const configFile = process.env.TORII_E2E_CONFIG;
  const tmpDir = process.env.TORII_E2E_TMPDIR;
  const smtpUrl = process.env.MAIL_SMTP_URL;
  if (!configFile || !tmpDir || !smtpUrl) {
    throw new Error('TORII_E2E_CONFIG, TORII_E2E_TMPDIR and MAIL_SMTP_URL come from the global setup');
  }
  // The suite's environment, opted in to unverified provider emails.
  const config = fs.readFileSync(configFile, 'utf8');
  expect(config).toContain('methods = [');
  const optIn = path.join(tmpDir, `${forProject('unverified-allowed')}.toml`);
  fs.writeFileSync(
    optIn,
    config.replace('methods = [', 'oauth_allow_unverified_emails = true\nmethods = ['),
  );
  const database = freshDatabase('unverified-allowed');
  const server = await startServer({
    name: forProject('oauth-unverified-allowed'),
    databaseUrl: database.url,
    configFile: optIn,
    smtpUrl,
  });
  const owner = await browser.newContext({ baseURL: server.url });
  try {
    // The squatter signs up through the provider with the victim's address.
    const victim = uniqueEmail('victim+unverified');
    await page.goto(`${server.url}/`);
    await expect(new SignInPage(page).heading).toBeVisible();
    await providerButton(page).click();
    const consentStep = page.getByTestId('oauth-consent');
    await new OidcProviderPages(page).signIn(victim, consentStep);
    await new SignUpPage(page).consent.check();
    await consentStep.getByRole('button', { name: 'Continue' }).click();
    // Pending on the address: the app sends them to the verification page, no dashboard.
    await expect(new VerifyEmailPage(page).heading).toBeVisible();
    await expect(new Dashboard(page).root).toHaveCount(0);
    const pending = await (await page.request.get(`${server.url}/me`)).json();
    expect(pending.session).toMatchObject({
      status: 'pending',
      currentGate: { key: 'email_verification' },
    });

    // The address's owner, in their own browser, resets the password with the emailed code.
    const ownerPage = await owner.newPage();
    const signIn = new SignInPage(ownerPage);
    const reset = new PasswordResetCard(ownerPage);
    await signIn.goto();
    await signIn.forgotPassword.click();
    const mailsBefore = (await messagesFor(victim)).length;
    await reset.requestCode(victim);
    const code = await waitForCode(victim, { after: mailsBefore });
    await reset.setPassword(code, 'the owner chose this passphrase');
    const ownerDashboard = new Dashboard(ownerPage);
    await expect(ownerDashboard.userEmail).toHaveText(victim);

    // The owner is told what was removed.
    const removedNotice = async () =>
      (await messagesFor(victim)).find((m) => m.subject.includes('sign-in methods were removed'));
    await expect.poll(async () => (await removedNotice())?.text ?? '').toContain(
      'Sign-in with Test IdP',
    );

    // The squatter's session is gone, and their provider account no longer gets in.
    await expectSignedOut(page, server.url);
    await page.goto(`${server.url}/`);
    const squatterSignIn = new SignInPage(page);
    await expect(squatterSignIn.heading).toBeVisible();
    await providerButton(page).click();
    await new OidcProviderPages(page).signIn(victim, squatterSignIn.error);
    await expect(squatterSignIn.error).toContainText('An account with this email already exists');
    await expectSignedOut(page, server.url);
    // The owner's session was never touched by any of it.
    await ownerPage.reload();
    await expect(ownerDashboard.userEmail).toHaveText(victim);
  } finally {
    await owner.close();
    await server.stop();
    database.drop();
  }
});

test('a tampered state on the callback shows an error and signs nobody in', async ({ page }) => {
  const signIn = new SignInPage(page);
  // The provider's redirect back arrives with its state changed.
  await rewriteCallback(page, (callback) => {
    callback.searchParams.set('state', `${callback.searchParams.get('state')}-tampered`);
    return callback;
  });

  await signIn.goto();
  await providerButton(page).click();
  await new OidcProviderPages(page).signIn(uniqueEmail('tamper'), signIn.error);

  await expect(signIn.heading).toBeVisible();
  await expect(signIn.error).toContainText('could not be verified');
  await expectSignedOut(page);
});

test('a sign-in started on one node finishes on another sharing its database', async ({ page }) => {
  const configFile = process.env.TORII_E2E_CONFIG;
  if (!configFile) throw new Error('TORII_E2E_CONFIG is set by the global setup');
  const database = sharedDatabase('oauth-nodes');
  const nodes: ToriiServer[] = [];
  try {
    // Both nodes answer for one public URL (as behind a load balancer): node A's.
    const a = await startServer({
      name: forProject('oauth-node-a'),
      databaseUrl: database.url,
      configFile,
      port: await freePort(),
    });
    nodes.push(a);
    const b = await startServer({
      name: forProject('oauth-node-b'),
      databaseUrl: database.url,
      configFile,
      env: { TORII_PUBLIC_URL: a.url },
    });
    nodes.push(b);
    // The load balancer sends the provider's redirect back to node B.
    await rewriteCallback(page, (callback) => new URL(callback.href.replace(a.url, b.url)));

    const login = uniqueEmail('nodes');
    await page.goto(`${a.url}/`);
    await expect(new SignInPage(page).heading).toBeVisible();
    await providerButton(page).click();
    const consentStep = page.getByTestId('oauth-consent');
    await new OidcProviderPages(page).signIn(login, consentStep);
    await expect(consentStep).toBeVisible();
    await new SignUpPage(page).consent.check();
    await consentStep.getByRole('button', { name: 'Continue' }).click();
    const dashboard = new Dashboard(page);
    await expect(dashboard.root).toBeVisible();
    await expect(dashboard.userEmail).toHaveText(login);

    // Node A started the ceremony and ran the consent step; node B took the callback.
    expect(fs.readFileSync(b.logFile, 'utf8')).toContain('/v1/oauth/oidc/callback');
    const logA = fs.readFileSync(a.logFile, 'utf8');
    expect(logA).toContain('/v1/oauth/oidc/start');
    expect(logA).not.toContain('/v1/oauth/oidc/callback');
  } finally {
    for (const node of nodes) await node.stop();
    database.drop();
  }
});
