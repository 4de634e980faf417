// The README's pictures of the components, taken from the running demo and written to
// docs/screenshots/ (committed). Each is also a check that the screen renders. The user and
// the sessions' times are fixed, so a run that changes nothing redraws the same pictures.

import { expect, test, type Page } from '@playwright/test';
import path from 'node:path';
import { e2eDir } from '../fixtures/processes';
import { PASSWORD, signUpViaApi } from '../fixtures/users';
import { ProfilePage } from './pages/ProfilePage';
import { SignInPage } from './pages/SignInPage';
import { UserMenu } from './pages/UserMenu';

const shots = path.resolve(e2eDir, '..', 'docs', 'screenshots');

test.use({ viewport: { width: 1000, height: 720 } });

async function shoot(page: Page, name: string): Promise<void> {
  // No caret or focus ring blinking into the picture.
  await page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
  await page.screenshot({ path: path.join(shots, name), fullPage: true });
}

test('screenshots: sign-in, themed sign-in, user button menu, user profile', async ({ page, browser, baseURL }) => {
  const signIn = new SignInPage(page);
  await signIn.goto();
  await shoot(page, 'sign-in.png');

  await page.goto('/?theme=forest');
  await expect(signIn.heading).toBeVisible();
  await expect(page.locator('html')).toHaveAttribute('data-theme', 'forest');
  await shoot(page, 'sign-in-themed.png');

  // Each run has a fresh database, and only this spec uses the address.
  const email = 'ada.lovelace@example.com';
  await signUpViaApi(page.request, email);
  await page.route(
    (url) => url.pathname === '/v1/sessions',
    async (route) => {
      if (route.request().method() !== 'GET') return route.continue();
      const response = await route.fetch();
      const body = (await response.json()) as { sessions: Record<string, unknown>[] };
      body.sessions.forEach((session, i) => {
        session.createdAt = `2026-11-2${i}T09:1${i}:00Z`;
        session.lastActiveAt = i === 0 ? '2026-11-22T10:42:00Z' : '2026-11-21T18:05:00Z';
      });
      await route.fulfill({ response, json: body });
    },
  );
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
  await page.reload();
  await expect(profile.sessionItems).toHaveCount(2);
  await shoot(page, 'user-profile.png');

  await page.goto('/');
  const menu = new UserMenu(page);
  await menu.open();
  await page.screenshot({
    path: path.join(shots, 'user-button.png'),
    clip: { x: 600, y: 0, width: 400, height: 260 },
  });
  await other.close();
});
