// Changes that need a recent sign-in, once it has run out, in a real browser: the profile
// asks the user to prove who they are again, with the password, a passkey (Chromium's virtual
// authenticator) or, for an account with neither, the provider it is linked to (the suite's
// real OpenID provider), and then makes the change. The specs here run against a server of
// their own whose recent-sign-in window is a few seconds (`recent_sign_in_secs`), so that it
// runs out for real; they wait for it by reading the end of the window the server reports.

import { test as base, expect, type APIRequestContext } from '@playwright/test';
import fs from 'node:fs';
import path from 'node:path';
import { VirtualAuthenticator } from '../fixtures/authenticator';
import { expectNoSeriousViolations } from '../fixtures/axe';
import { forProject, freshDatabase, projectBackend } from '../fixtures/databases';
import { startServer, type ToriiServer } from '../fixtures/processes';
import { PASSWORD, signUpViaApi, uniqueEmail } from '../fixtures/users';
import { Dashboard } from './pages/Dashboard';
import { OidcProviderPages } from './pages/OidcProviderPages';
import { PasskeysPanel } from './pages/PasskeysPanel';
import { ProfilePage } from './pages/ProfilePage';
import { ReauthPrompt } from './pages/ReauthPrompt';
import { SignInPage } from './pages/SignInPage';
import { SignUpPage } from './pages/SignUpPage';

/** The recent-sign-in window of this spec's server, in seconds. */
const WINDOW_SECS = 6;
const PROVIDER = 'Test IdP';

/** One server per worker, with the suite's environment and a short window. */
const test = base.extend<{}, { shortWindowServer: ToriiServer }>({
  shortWindowServer: [
    async ({}, use, workerInfo) => {
      const configFile = process.env.TORII_E2E_CONFIG;
      const tmpDir = process.env.TORII_E2E_TMPDIR;
      if (!configFile || !tmpDir) {
        throw new Error('TORII_E2E_CONFIG and TORII_E2E_TMPDIR are set by the global setup');
      }
      const name = forProject(`short-window-${workerInfo.workerIndex}`, workerInfo.project.name);
      const config = path.join(tmpDir, `${name}.toml`);
      fs.writeFileSync(
        config,
        `${fs.readFileSync(configFile, 'utf8').trimEnd()}\n\n` +
          `[environments.session]\nrecent_sign_in_secs = ${WINDOW_SECS}\n`,
      );
      const database = freshDatabase(name, projectBackend(workerInfo.project.name));
      const server = await startServer({
        name,
        databaseUrl: database.url,
        configFile: config,
        smtpUrl: process.env.MAIL_SMTP_URL,
      });
      await use(server);
      await server.stop();
      database.drop();
    },
    { scope: 'worker' },
  ],
  baseURL: async ({ shortWindowServer }, use) => {
    await use(shortWindowServer.url);
  },
});

// Each test waits for the window to run out at least once.
test.describe.configure({ timeout: 60_000 });

/** Resolves once the session of `request` is no longer recently signed in. */
async function waitUntilNotRecent(request: APIRequestContext): Promise<void> {
  const methods = await request.get('/v1/me/sign-in-methods');
  expect(methods.status(), await methods.text()).toBe(200);
  const { recentSignInUntil } = (await methods.json()) as { recentSignInUntil: string };
  const until = Date.parse(recentSignInUntil);
  expect(until - Date.now()).toBeLessThanOrEqual(WINDOW_SECS * 1000);
  await expect
    .poll(() => Date.now() > until + 100, { timeout: (WINDOW_SECS + 5) * 1000 })
    .toBe(true);
}

test('after the window, a passkey is added once the password confirms it is you', async ({
  page,
}) => {
  const authenticator = await VirtualAuthenticator.attach(page);
  await signUpViaApi(page.request);
  const profile = new ProfilePage(page);
  const passkeys = new PasskeysPanel(page);
  await profile.goto();
  await expect(passkeys.root).toContainText('No passkeys yet.');
  await waitUntilNotRecent(page.request);

  await passkeys.add.click();
  const prompt = new ReauthPrompt(passkeys.root);
  await expect(prompt.password).toBeFocused();
  // No passkey yet, so none is offered; nothing was created on the device.
  await expect(prompt.usePasskey).toHaveCount(0);
  expect(await authenticator.credentials()).toHaveLength(0);
  await expect(passkeys.add).toBeDisabled();

  // A keyboard alone answers it: the field has the focus.
  await page.keyboard.type('not the password');
  await page.keyboard.press('Enter');
  await expect(prompt.error).toContainText('Check the highlighted fields');
  await expect(prompt.root.getByText('That password is not right.')).toBeVisible();
  await prompt.password.fill(PASSWORD);
  await page.keyboard.press('Enter');
  await expect(prompt.root).toHaveCount(0);
  await expect(passkeys.notice).toContainText('Press “Add a passkey” again');
  // The focus is back on the button that asked.
  await expect(passkeys.add).toBeFocused();
  await page.keyboard.press('Enter');
  await expect(passkeys.notice).toContainText('Added');
  await expect(passkeys.items).toHaveCount(1);
  expect(await authenticator.credentials()).toHaveLength(1);
});

test('after the window, a passkey confirms it is you and the removal goes on', async ({ page }) => {
  const authenticator = await VirtualAuthenticator.attach(page);
  await signUpViaApi(page.request);
  const profile = new ProfilePage(page);
  const passkeys = new PasskeysPanel(page);
  await profile.goto();
  // A passkey to confirm with: added at once while the sign-in is recent, or after the
  // password if the window already ran out on a slow machine.
  await passkeys.add.click();
  const prompt = new ReauthPrompt(passkeys.root);
  await expect(passkeys.notice.or(prompt.root).first()).toBeVisible();
  if (await prompt.root.isVisible()) {
    await prompt.password.fill(PASSWORD);
    await prompt.confirm.click();
    await passkeys.add.click();
  }
  await expect(passkeys.items).toHaveCount(1);
  const [credential] = await authenticator.credentials();
  const signCount = credential.signCount;
  await waitUntilNotRecent(page.request);

  await passkeys.remove('Passkey').click();
  await expect(prompt.usePasskey).toBeVisible();
  await expect(prompt.password).toBeVisible();
  await expectNoSeriousViolations(page, 're-authentication prompt');
  await prompt.usePasskey.click();
  await expect(prompt.root).toHaveCount(0);
  // Confirmed with the passkey, the removal was made again by itself.
  await expect(passkeys.notice).toContainText('Removed “Passkey”');
  await expect(passkeys.items).toHaveCount(0);
  const [used] = await authenticator.credentials();
  expect(used.signCount).toBeGreaterThan(signCount);
  const methods = await (await page.request.get('/v1/me/sign-in-methods')).json();
  expect(methods).toMatchObject({ password: true, passkeys: 0 });
});

test('cancelling the prompt changes nothing, and an email change goes on after it', async ({
  page,
}) => {
  const user = await signUpViaApi(page.request);
  const profile = new ProfilePage(page);
  await profile.goto();
  await waitUntilNotRecent(page.request);

  await profile.changeEmail.click();
  await profile.newEmail.fill(uniqueEmail('late'));
  await profile.sendCode.click();
  const prompt = new ReauthPrompt(profile.account);
  await expect(prompt.password).toBeFocused();
  await prompt.cancel.click();
  await expect(prompt.root).toHaveCount(0);
  await expect(profile.newEmail).toBeFocused();
  await expect(profile.email).toHaveText(user.email);

  await profile.sendCode.click();
  await prompt.password.fill(PASSWORD);
  await prompt.confirm.click();
  await expect(profile.status(profile.account, /We sent a 6-digit code to/)).toBeVisible();
  await expect(profile.code).toBeFocused();
});

test('an account with only a provider confirms it is you there, then adds a passkey', async ({
  page,
}) => {
  await VirtualAuthenticator.attach(page);
  const login = uniqueEmail('provider-only');
  const signIn = new SignInPage(page);
  await signIn.goto();
  await page.getByRole('button', { name: `Continue with ${PROVIDER}` }).click();
  const consent = page.getByTestId('oauth-consent');
  await new OidcProviderPages(page).signIn(login, consent);
  await new SignUpPage(page).consent.check();
  await consent.getByRole('button', { name: 'Continue' }).click();
  await expect(new Dashboard(page).userEmail).toHaveText(login);

  const profile = new ProfilePage(page);
  const passkeys = new PasskeysPanel(page);
  await profile.goto();
  await expect(profile.linkedItems).toHaveCount(1);
  await waitUntilNotRecent(page.request);

  await passkeys.add.click();
  const prompt = new ReauthPrompt(passkeys.root);
  await expect(prompt.provider(PROVIDER)).toBeVisible();
  await expect(prompt.password).toHaveCount(0);
  await expect(prompt.usePasskey).toHaveCount(0);
  await prompt.provider(PROVIDER).click();
  // The provider remembers the user; back on the profile, which says so.
  const confirmed = profile.status(profile.linkedAccounts, 'You confirmed it is you.');
  await new OidcProviderPages(page).signIn(login, confirmed);
  await expect(confirmed).toBeVisible();
  await expect(page).toHaveURL(/\/profile$/);

  await passkeys.add.click();
  await expect(passkeys.notice).toContainText('Added');
  await expect(passkeys.items).toHaveCount(1);
});
