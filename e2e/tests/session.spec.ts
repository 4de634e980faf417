// The provider's view of the session: loading state before the first /me, and a session
// revoked elsewhere noticed when the tab regains focus, without a reload.

import { expect, test, type Route } from '@playwright/test';
import { signUpViaApi } from '../fixtures/users';
import { Dashboard } from './pages/Dashboard';
import { SignInPage } from './pages/SignInPage';

declare global {
  interface Window {
    __marker?: string;
  }
}

test('AuthLoading shows until /me answers, then gives way', async ({ page }) => {
  // Hold the first /me until the loading state has been seen; later ones pass.
  let holdNext = true;
  let heldRoute!: (route: Route) => void;
  const held = new Promise<Route>((resolve) => {
    heldRoute = resolve;
  });
  await page.route(
    (url) => url.pathname === '/me',
    async (route) => {
      if (holdNext) {
        holdNext = false;
        heldRoute(route);
      } else {
        await route.continue();
      }
    },
  );

  const loading = page.getByTestId('auth-loading');
  const signIn = new SignInPage(page);
  await page.goto('/');
  const route = await held;
  await expect(loading).toBeVisible();
  // Nothing signed-in or signed-out renders before the answer.
  await expect(signIn.heading).toBeHidden();
  await expect(new Dashboard(page).root).toBeHidden();

  await route.continue();
  await expect(loading).toBeHidden();
  await expect(signIn.heading).toBeVisible();
});

test('a session revoked elsewhere flips the page to signed out on focus, without a reload', async ({
  page,
  playwright,
  baseURL,
}) => {
  const user = await signUpViaApi(page.request);
  const dashboard = new Dashboard(page);
  await page.goto('/');
  await expect(dashboard.userEmail).toHaveText(user.email);

  const cookie = (await page.context().cookies()).find((c) => c.name === 'torii_session');
  expect(cookie, 'the torii_session cookie').toBeDefined();
  expect(cookie?.httpOnly).toBe(true);
  const bearer = { Authorization: `Bearer ${cookie?.value}` };

  // Survives only as long as this document does: a reload would drop it.
  await page.evaluate(() => {
    window.__marker = 'same document';
  });

  // Another client (no cookies) signs the same session out with its token.
  const other = await playwright.request.newContext({ baseURL });
  try {
    const signedOut = await other.post('/v1/sign-out', { headers: bearer });
    expect(signedOut.status(), await signedOut.text()).toBe(204);
    const me = await other.get('/me', { headers: bearer });
    expect(await me.json()).toEqual({ user: null, session: null });
  } finally {
    await other.dispose();
  }

  // The page still shows the dashboard until the provider refetches on focus/visibility.
  await page.evaluate(() => {
    window.dispatchEvent(new Event('focus'));
    document.dispatchEvent(new Event('visibilitychange'));
  });

  await expect(new SignInPage(page).heading).toBeVisible();
  await expect(dashboard.root).toBeHidden();
  expect(await page.evaluate(() => window.__marker)).toBe('same document');
});
