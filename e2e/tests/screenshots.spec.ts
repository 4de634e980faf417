// The README's pictures of the components, taken from the running demo and written to
// docs/screenshots/ (committed). Each is also a check that the screen renders. The user, the
// times the server reports, the browser's language and time zone are fixed, so a run that
// changes nothing redraws the same pictures.

import { expect, test, type Page } from '@playwright/test';
import path from 'node:path';
import { VirtualAuthenticator } from '../fixtures/authenticator';
import { e2eDir } from '../fixtures/processes';
import { totpCode } from '../fixtures/totp';
import { PASSWORD, signUpViaApi } from '../fixtures/users';
import { Dashboard } from './pages/Dashboard';
import { OidcProviderPages } from './pages/OidcProviderPages';
import { PasskeysPanel } from './pages/PasskeysPanel';
import { ProfilePage } from './pages/ProfilePage';
import { ReauthPrompt } from './pages/ReauthPrompt';
import { SecondFactorStep, TwoStepPanel } from './pages/SecondFactorPages';
import { SignInPage } from './pages/SignInPage';
import { SignUpPage } from './pages/SignUpPage';
import { UserMenu } from './pages/UserMenu';

const shots = path.resolve(e2eDir, '..', 'docs', 'screenshots');

test.use({
  viewport: { width: 1000, height: 720 },
  locale: 'en-GB',
  timezoneId: 'Europe/London',
});

async function shoot(page: Page, name: string): Promise<void> {
  // No caret or focus ring blinking into the picture.
  await page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
  await page.screenshot({ path: path.join(shots, name), fullPage: true });
}

/** Answers every GET of `pathname` with the server's answer, its items changed by `fix`. */
async function pinTimes(
  page: Page,
  pathname: string,
  fix: (items: Record<string, unknown>[]) => void,
): Promise<void> {
  await page.route(
    (url) => url.pathname === pathname,
    async (route) => {
      if (route.request().method() !== 'GET') return route.continue();
      const response = await route.fetch();
      const body = (await response.json()) as
        | Record<string, unknown>[]
        | { sessions: Record<string, unknown>[] };
      fix(Array.isArray(body) ? body : body.sessions);
      await route.fulfill({ response, json: body });
    },
  );
}

test('screenshots: sign-in, themed sign-in, sign-up, user button menu, user profile', async ({
  page,
  browser,
  baseURL,
}) => {
  const signIn = new SignInPage(page);
  await signIn.goto();
  await shoot(page, 'sign-in.png');

  await page.goto('/?theme=forest');
  await expect(signIn.heading).toBeVisible();
  await expect(page.locator('html')).toHaveAttribute('data-theme', 'forest');
  await shoot(page, 'sign-in-themed.png');

  await page.goto('/sign-up');
  await expect(new SignUpPage(page).heading).toBeVisible();
  await shoot(page, 'sign-up.png');

  await page.goto('/?lang=fr');
  await expect(page.getByRole('heading', { name: 'Se connecter', exact: true })).toBeVisible();
  await expect(page.locator('section.torii-card')).toHaveAttribute('lang', 'fr');
  await shoot(page, 'sign-in-french.png');

  await page.goto('/?appearance=dark');
  await expect(signIn.heading).toBeVisible();
  await expect(page.locator('section.torii-card img.torii-logo')).toBeVisible();
  await shoot(page, 'sign-in-dark.png');

  // Each run has a fresh database and a fresh provider, and only this spec uses the address.
  const email = 'ada.lovelace@example.com';
  await signUpViaApi(page.request, email);
  await VirtualAuthenticator.attach(page);
  await pinTimes(page, '/v1/sessions', (sessions) => {
    sessions.forEach((session, i) => {
      session.createdAt = `2026-11-2${i}T09:1${i}:00Z`;
      session.lastActiveAt = i === 0 ? '2026-11-22T10:42:00Z' : '2026-11-21T18:05:00Z';
    });
  });
  await pinTimes(page, '/v1/passkeys', (passkeys) => {
    passkeys.forEach((passkey) => {
      passkey.createdAt = '2026-11-20T09:15:00Z';
      passkey.lastUsedAt = '2026-11-22T10:40:00Z';
    });
  });
  await pinTimes(page, '/v1/oauth/identities', (identities) => {
    identities.forEach((identity) => {
      identity.createdAt = '2026-11-21T08:30:00Z';
    });
  });
  const other = await browser.newContext({ baseURL });
  const elsewhere = await other.request.post('/v1/sign-in/password', {
    data: { email, password: PASSWORD },
    headers: {
      'User-Agent':
        'Mozilla/5.0 (Macintosh; Intel Mac OS X 14.5; rv:128.0) Gecko/20100101 Firefox/128.0',
    },
  });
  expect(elsewhere.status()).toBe(200);
  const profile = new ProfilePage(page);
  await profile.goto();
  await profile.name.fill('Ada Lovelace');
  await profile.saveName.click();
  await expect(profile.status(profile.account, 'Your name was saved.')).toBeVisible();
  const passkeys = new PasskeysPanel(page);
  await passkeys.add.click();
  await expect(passkeys.items).toHaveCount(1);
  await profile.link('Test IdP').click();
  const linked = profile.status(profile.linkedAccounts, 'The account was linked.');
  await new OidcProviderPages(page).signIn(email, linked);
  await page.reload();
  await expect(profile.sessionItems).toHaveCount(2);
  await expect(passkeys.items).toHaveCount(1);
  await expect(profile.linkedItems).toHaveCount(1);
  await shoot(page, 'user-profile.png');

  // The prompt a change gets once the sign-in is no longer recent.
  await page.route(
    (url) => url.pathname === '/v1/passkeys/registration/options',
    (route) =>
      route.fulfill({
        status: 403,
        json: {
          error: {
            code: 'reauthentication_required',
            message: 'For your security, confirm it is you first.',
          },
        },
      }),
  );
  await passkeys.add.click();
  const prompt = new ReauthPrompt(passkeys.root);
  await expect(prompt.password).toBeVisible();
  await expect(prompt.usePasskey).toBeVisible();
  await page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
  await profile.security.screenshot({ path: path.join(shots, 'reauthenticate.png') });
  await prompt.cancel.click();

  await page.goto('/');
  const menu = new UserMenu(page);
  await menu.open();
  await page.screenshot({
    path: path.join(shots, 'user-button.png'),
    clip: { x: 600, y: 0, width: 400, height: 260 },
  });
  await other.close();
});

test('screenshots: two-step verification in the profile, its enrolment, the second sign-in step', async ({
  page,
}) => {
  const email = 'grace.hopper@example.com';
  await signUpViaApi(page.request, email);
  await new ProfilePage(page).goto();
  const panel = new TwoStepPanel(page);
  await panel.add.click();
  await panel.setUp.click();
  await expect(panel.qr).toBeVisible();
  // The key and its QR code are new each run: masked, so the picture stays the same.
  await page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
  await panel.root.screenshot({
    path: path.join(shots, 'two-step-enrol.png'),
    mask: [panel.qr, panel.secret],
  });
  const secret = (await panel.secret.textContent())?.trim() ?? '';
  await panel.code.fill(totpCode(secret));
  await panel.confirm.click();
  await expect(panel.backupCodes).toHaveCount(10);
  await page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
  await panel.root.screenshot({
    path: path.join(shots, 'two-step-backup-codes.png'),
    mask: [panel.backupCodes],
  });

  await page.goto('/');
  await new Dashboard(page).signOut.click();
  const signIn = new SignInPage(page);
  await expect(signIn.heading).toBeVisible();
  await signIn.signIn(email, PASSWORD);
  await expect(new SecondFactorStep(page).heading).toBeVisible();
  await shoot(page, 'second-factor.png');
});
