// Accessibility: axe finds no serious or critical violation on any screen of the components
// (sign-in, sign-up and its code step, the gates, the profile with its passkeys and linked
// accounts, and the open user menu), and a keyboard alone signs in, opens the user menu,
// moves in it and signs out.

import { expect, test, type Locator, type Page } from '@playwright/test';
import { requireUserGate, userIdByEmail } from '../fixtures/admin';
import { expectNoSeriousViolations } from '../fixtures/axe';
import { waitForCode } from '../fixtures/mail';
import { PASSWORD, signUpViaApi, uniqueEmail } from '../fixtures/users';
import { Dashboard } from './pages/Dashboard';
import { AcceptTermsPage, VerifyEmailPage } from './pages/GatePages';
import { PasskeysPanel } from './pages/PasskeysPanel';
import { ProfilePage } from './pages/ProfilePage';
import { SignInPage } from './pages/SignInPage';
import { SignUpPage } from './pages/SignUpPage';
import { UserMenu } from './pages/UserMenu';

/** Presses Tab until `target` has the focus; fails if it never gets it. */
async function tabTo(page: Page, target: Locator, { backwards = false, max = 25 } = {}): Promise<void> {
  for (let i = 0; i < max; i += 1) {
    if (await target.evaluate((el) => el === document.activeElement)) return;
    await page.keyboard.press(backwards ? 'Shift+Tab' : 'Tab');
  }
  await expect(target).toBeFocused();
}

test('the sign-in card, with and without an error, has no serious axe violations', async ({ page }) => {
  const signIn = new SignInPage(page);
  await signIn.goto();
  await expectNoSeriousViolations(page, 'sign-in');
  await signIn.signIn(uniqueEmail('nobody'), 'not the password');
  await expect(signIn.error).toBeVisible();
  await expectNoSeriousViolations(page, 'sign-in error');
});

test('the sign-up card and its code step have no serious axe violations', async ({ page }) => {
  const signUp = new SignUpPage(page);
  await page.goto('/sign-up');
  await expect(signUp.heading).toBeVisible();
  await expectNoSeriousViolations(page, 'sign-up');
  const email = uniqueEmail('axe');
  await signUp.fillDetails(email, PASSWORD, 'Ada');
  await signUp.consent.check();
  await signUp.submit.click();
  await expect(signUp.code).toBeVisible();
  await expectNoSeriousViolations(page, 'sign-up code step');
  await signUp.enterCode((await waitForCode(email)) === '000000' ? '111111' : '000000');
  await expect(signUp.error).toBeVisible();
  await expectNoSeriousViolations(page, 'code step error');
});

test('the gate screens have no serious axe violations', async ({ page, request }) => {
  const { email } = await signUpViaApi(page.request);
  const userId = await userIdByEmail(request, email);
  await requireUserGate(request, userId, 'legal_acceptance');
  await page.goto('/');
  await expect(new AcceptTermsPage(page).heading).toBeVisible();
  await expectNoSeriousViolations(page, 'Terms gate');

  await requireUserGate(request, userId, 'email_verification');
  await new AcceptTermsPage(page).accept.click();
  const verify = new VerifyEmailPage(page);
  await expect(verify.heading).toBeVisible();
  await expectNoSeriousViolations(page, 'email verification gate');
  await verify.sendCode.click();
  await expect(verify.code).toBeVisible();
  await expectNoSeriousViolations(page, 'email verification code step');
});

test('the profile and the open user menu have no serious axe violations', async ({ page, browser, baseURL }) => {
  const user = await signUpViaApi(page.request);
  // A second session, so the list has a "Sign out" button to check.
  const other = await browser.newContext({ baseURL });
  const signInElsewhere = await other.request.post('/v1/sign-in/password', {
    data: { email: user.email, password: PASSWORD },
  });
  expect(signInElsewhere.status()).toBe(200);
  const profile = new ProfilePage(page);
  await profile.goto();
  await expect(profile.sessionItems).toHaveCount(2);
  // The security section's parts are there to be checked too (the re-authentication prompt
  // is checked in profile-reauthentication.spec.ts, a linked account in profile.spec.ts).
  await expect(new PasskeysPanel(page).root).toContainText('No passkeys yet.');
  await expect(profile.link('Test IdP')).toBeVisible();
  await expectNoSeriousViolations(page, 'profile');

  await profile.changeEmail.click();
  await profile.newEmail.fill('not an address');
  await profile.sendCode.click();
  await expect(profile.account.getByRole('alert')).toBeVisible();
  await expectNoSeriousViolations(page, 'profile with an error');

  const menu = new UserMenu(page);
  await menu.open();
  await expectNoSeriousViolations(page, 'user menu');
  await other.close();
});

test('a keyboard alone signs in, uses the user menu and signs out', async ({ page, request }) => {
  const user = await signUpViaApi(request);
  const signIn = new SignInPage(page);
  await signIn.goto();

  await tabTo(page, signIn.email);
  await page.keyboard.type(user.email);
  await tabTo(page, signIn.password);
  await page.keyboard.type(PASSWORD);
  await page.keyboard.press('Enter');
  await expect(new Dashboard(page).userEmail).toHaveText(user.email);

  const menu = new UserMenu(page);
  await tabTo(page, menu.trigger, { backwards: true });
  await page.keyboard.press('Enter');
  await expect(menu.manageAccount).toBeFocused();
  await expect(menu.trigger).toHaveAttribute('aria-expanded', 'true');
  await page.keyboard.press('ArrowDown');
  await expect(menu.signOut).toBeFocused();
  await page.keyboard.press('ArrowDown');
  await expect(menu.manageAccount).toBeFocused();
  await page.keyboard.press('Escape');
  await expect(menu.menu).toBeHidden();
  await expect(menu.trigger).toBeFocused();
  await expect(menu.trigger).toHaveAttribute('aria-expanded', 'false');

  // Into the profile and back out of the menu with Tab.
  await page.keyboard.press('ArrowDown');
  await expect(menu.manageAccount).toBeFocused();
  await page.keyboard.press('Enter');
  const profile = new ProfilePage(page);
  await expect(profile.account).toBeVisible();
  await tabTo(page, profile.name);
  await page.keyboard.press('Control+A');
  await page.keyboard.type('Keyboard User');
  await page.keyboard.press('Enter');
  await expect(profile.status(profile.account, 'Your name was saved.')).toBeVisible();

  await tabTo(page, menu.trigger, { backwards: true, max: 40 });
  await page.keyboard.press('ArrowUp');
  await expect(menu.signOut).toBeFocused();
  await page.keyboard.press('Enter');
  await expect(signIn.heading).toBeVisible();
});
