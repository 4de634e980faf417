// "Forgot password?" on the sign-in card: the emailed code and a new password sign the user
// in on a new session, every other session of theirs is signed out, and only the new
// password works from then on.

import { expect, test } from '@playwright/test';
import { refocus } from '../fixtures/browser';
import { messagesFor, waitForCode } from '../fixtures/mail';
import { signUpViaApi } from '../fixtures/users';
import { Dashboard } from './pages/Dashboard';
import { PasswordResetCard } from './pages/PasswordResetCard';
import { SignInPage } from './pages/SignInPage';

const NEW_PASSWORD = 'a brand new passphrase 42';

test('the emailed code sets a new password and signs in; another browser is signed out; only the new password works', async ({
  page,
  browser,
  request,
  baseURL,
}) => {
  // Signed up in a separate request context: the page itself is signed out.
  const user = await signUpViaApi(request);
  const signIn = new SignInPage(page);
  const reset = new PasswordResetCard(page);
  const dashboard = new Dashboard(page);

  // A second browser, signed in with the old password.
  const other = await browser.newContext({ baseURL });
  try {
    const otherPage = await other.newPage();
    const otherSignIn = new SignInPage(otherPage);
    const otherDashboard = new Dashboard(otherPage);
    await otherSignIn.goto();
    await otherSignIn.signIn(user.email, user.password);
    await expect(otherDashboard.userEmail).toHaveText(user.email);

    const mailsBefore = (await messagesFor(user.email)).length;
    await signIn.goto();
    await signIn.forgotPassword.click();
    await expect(reset.heading).toBeVisible();
    await reset.requestCode(user.email);
    await expect(reset.sentTo).toContainText(user.email);
    const code = await waitForCode(user.email, { after: mailsBefore });
    await reset.setPassword(code, NEW_PASSWORD);

    await expect(dashboard.userEmail).toHaveText(user.email);
    const me = await (await page.request.get('/me')).json();
    expect(me.session).toMatchObject({ status: 'active' });

    // The other browser learns it on its next /me, without a reload.
    await refocus(otherPage);
    await expect(otherSignIn.heading).toBeVisible();
    await expect(otherDashboard.root).toBeHidden();

    await otherSignIn.signIn(user.email, user.password);
    await expect(otherSignIn.error).toBeVisible();
    await expect(otherDashboard.root).toBeHidden();

    await otherSignIn.signIn(user.email, NEW_PASSWORD);
    await expect(otherDashboard.userEmail).toHaveText(user.email);
  } finally {
    await other.close();
  }
});

test('a wrong code and a short password stay on the card with inline errors; then the right ones work', async ({
  page,
  request,
  baseURL,
}) => {
  const user = await signUpViaApi(request);
  const signIn = new SignInPage(page);
  const reset = new PasswordResetCard(page);
  const dashboard = new Dashboard(page);

  const mailsBefore = (await messagesFor(user.email)).length;
  await signIn.goto();
  await signIn.email.fill(user.email);
  await signIn.forgotPassword.click();
  // The address typed on the sign-in card comes along.
  await expect(reset.email).toHaveValue(user.email);
  await reset.sendCode.click();
  await expect(reset.code).toBeVisible();
  const code = await waitForCode(user.email, { after: mailsBefore });

  const wrong = String((Number(code) + 1) % 1_000_000).padStart(6, '0');
  await reset.setPassword(wrong, NEW_PASSWORD);
  await expect(reset.error).toContainText(/code/i);
  await expect(reset.code).toBeVisible();

  await reset.setPassword(code, 'short');
  await expect(reset.newPassword).toHaveAttribute('aria-invalid', 'true');
  await expect(reset.error).toBeVisible();
  await expect(dashboard.root).toBeHidden();

  await reset.setPassword(code, NEW_PASSWORD);
  await expect(dashboard.userEmail).toHaveText(user.email);

  // The old password is gone. (This context still holds the sign-up's cookie, revoked by the
  // reset: a cookie-carrying request names its Origin, as a browser's would.)
  const oldPassword = await request.post('/v1/sign-in/password', {
    headers: { Origin: String(baseURL) },
    data: { email: user.email, password: user.password },
  });
  expect(oldPassword.status()).toBe(401);
});
