// Sign-up with consent and an emailed code, sign-out, password sign-in, and their errors,
// through the demo app in a real browser against a real server and SMTP sink.

import { expect, test } from '@playwright/test';
import { waitForCode } from '../fixtures/mail';
import { PASSWORD, signUpViaApi, uniqueEmail } from '../fixtures/users';
import { Dashboard } from './pages/Dashboard';
import { SignInPage } from './pages/SignInPage';
import { SignUpPage } from './pages/SignUpPage';

test('sign-up requires consent and the emailed code, then the session is active', async ({
  page,
}) => {
  const email = uniqueEmail();
  const signIn = new SignInPage(page);
  const signUp = new SignUpPage(page);
  const dashboard = new Dashboard(page);

  await signIn.goto();
  await signIn.createAccount.click();
  await signUp.fillDetails(email, PASSWORD, 'Ada Lovelace');

  // The environment has Terms and Privacy URLs: no account without ticking the box.
  await expect(signUp.consent).not.toBeChecked();
  await expect(signUp.submit).toBeDisabled();
  await signUp.consent.check();
  await expect(signUp.submit).toBeEnabled();
  await signUp.submit.click();

  await expect(signUp.code).toBeVisible();
  await signUp.enterCode(await waitForCode(email));

  await expect(dashboard.root).toBeVisible();
  await expect(dashboard.userEmail).toHaveText(email);

  // page.request shares the page's cookies: this is the session the page holds.
  const me = await page.request.get('/me');
  expect(me.status()).toBe(200);
  const body = await me.json();
  expect(body.user).toMatchObject({ email, name: 'Ada Lovelace', emailVerified: true });
  expect(body.session).toMatchObject({ status: 'active', gates: [], currentGate: null });
});

test('sign-out shows the sign-in card; the password signs back in; a reload keeps the session', async ({
  page,
}) => {
  const user = await signUpViaApi(page.request);
  const signIn = new SignInPage(page);
  const dashboard = new Dashboard(page);

  await page.goto('/');
  await expect(dashboard.userEmail).toHaveText(user.email);

  await dashboard.signOut.click();
  await expect(signIn.heading).toBeVisible();
  await expect(dashboard.root).toBeHidden();
  expect(await (await page.request.get('/me')).json()).toEqual({ user: null, session: null });

  await signIn.signIn(user.email, user.password);
  await expect(dashboard.userEmail).toHaveText(user.email);

  await page.reload();
  await expect(dashboard.userEmail).toHaveText(user.email);
  await expect(signIn.heading).toBeHidden();
});

test('a wrong password shows an inline error and stays signed out', async ({ page, request }) => {
  // Signed up in a separate request context: the page itself is signed out.
  const user = await signUpViaApi(request);
  const signIn = new SignInPage(page);

  await signIn.goto();
  await signIn.signIn(user.email, `${user.password} but wrong`);

  await expect(signIn.error).toBeVisible();
  await expect(signIn.heading).toBeVisible();
  await expect(new Dashboard(page).root).toBeHidden();
  expect(await (await page.request.get('/me')).json()).toEqual({ user: null, session: null });
});

test('a wrong code shows an inline error with the tries left; the right one still works', async ({
  page,
}) => {
  const email = uniqueEmail();
  const signIn = new SignInPage(page);
  const signUp = new SignUpPage(page);
  const dashboard = new Dashboard(page);

  await signIn.goto();
  await signIn.createAccount.click();
  await signUp.fillDetails(email, PASSWORD);
  await signUp.consent.check();
  await signUp.submit.click();
  await expect(signUp.code).toBeVisible();

  const code = await waitForCode(email);
  const wrong = String((Number(code) + 1) % 1_000_000).padStart(6, '0');
  await signUp.enterCode(wrong);

  await expect(signUp.error).toContainText(/tries left/i);
  await expect(signUp.code).toBeVisible();
  await expect(dashboard.root).toBeHidden();

  await signUp.enterCode(code);
  await expect(dashboard.userEmail).toHaveText(email);
});
