// Every tab of one origin agrees on the session: a sign-in or sign-out in one tab shows in the
// others within a second, without a reload and without waiting for them to regain focus
// (the provider's BroadcastChannel).

import { expect, test, type Page } from '@playwright/test';
import { PASSWORD, signUpViaApi } from '../fixtures/users';
import { Dashboard } from './pages/Dashboard';
import { SignInPage } from './pages/SignInPage';
import { UserMenu } from './pages/UserMenu';

/** Within a second of the change, as the issue asks; longer would mean a missed message. */
const WITHIN_A_SECOND = { timeout: 1_000 };

async function setMarker(page: Page): Promise<void> {
  await page.evaluate(() => Reflect.set(window, '__marker', 'same document'));
}

async function marker(page: Page): Promise<unknown> {
  return page.evaluate(() => Reflect.get(window, '__marker'));
}

/** Counts the focus and visibility events a page sees, to show they played no part. */
async function countRefocusEvents(page: Page): Promise<void> {
  await page.evaluate(() => {
    Reflect.set(window, '__refocus', 0);
    const bump = () => Reflect.set(window, '__refocus', Number(Reflect.get(window, '__refocus')) + 1);
    window.addEventListener('focus', bump);
    document.addEventListener('visibilitychange', bump);
  });
}

async function refocusEvents(page: Page): Promise<unknown> {
  return page.evaluate(() => Reflect.get(window, '__refocus'));
}

test('signing out in one tab signs out the other tab within a second', async ({ context }) => {
  const first = await context.newPage();
  const second = await context.newPage();
  const user = await signUpViaApi(first.request);
  await first.goto('/');
  await second.goto('/');
  await expect(new Dashboard(first).userEmail).toHaveText(user.email);
  await expect(new Dashboard(second).userEmail).toHaveText(user.email);
  await setMarker(second);
  await countRefocusEvents(second);

  await new UserMenu(first).signOutHere();
  await expect(new SignInPage(first).heading).toBeVisible();

  await expect(new SignInPage(second).heading).toBeVisible(WITHIN_A_SECOND);
  await expect(new Dashboard(second).root).toBeHidden();
  expect(await marker(second)).toBe('same document');
  expect(await refocusEvents(second)).toBe(0);
});

test('signing in in one tab shows the dashboard in the other tab within a second', async ({
  context,
  request,
}) => {
  // Signed up through a separate request context: the browser's tabs start signed out.
  const user = await signUpViaApi(request);
  const first = await context.newPage();
  const second = await context.newPage();
  const firstSignIn = new SignInPage(first);
  await firstSignIn.goto();
  await new SignInPage(second).goto();
  await setMarker(second);
  await countRefocusEvents(second);

  await firstSignIn.signIn(user.email, PASSWORD);
  await expect(new Dashboard(first).userEmail).toHaveText(user.email);

  await expect(new Dashboard(second).userEmail).toHaveText(user.email, WITHIN_A_SECOND);
  expect(await marker(second)).toBe('same document');
  expect(await refocusEvents(second)).toBe(0);
});

test('without BroadcastChannel, the storage event carries a sign-out to the other tab', async ({
  context,
}) => {
  await context.addInitScript(() => {
    Reflect.deleteProperty(window, 'BroadcastChannel');
  });
  const first = await context.newPage();
  const second = await context.newPage();
  const user = await signUpViaApi(first.request);
  await first.goto('/');
  await second.goto('/');
  expect(await second.evaluate(() => 'BroadcastChannel' in window)).toBe(false);
  await expect(new Dashboard(second).userEmail).toHaveText(user.email);
  await countRefocusEvents(second);

  await new UserMenu(first).signOutHere();
  await expect(new SignInPage(second).heading).toBeVisible(WITHIN_A_SECOND);
  expect(await refocusEvents(second)).toBe(0);
});
