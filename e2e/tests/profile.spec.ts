// <UserButton> and <UserProfile> in the demo: the menu leads to the profile, where the user
// changes their name, email and password, links and unlinks a provider (the suite's real
// OpenID provider) and ends their other sessions. "Another device" is a second browser
// context with its own cookies. (Changes after the recent sign-in has run out, on a server
// whose window is a few seconds: profile-reauthentication.spec.ts.)

import { expect, test, type Browser, type Page } from '@playwright/test';
import { expectNoSeriousViolations } from '../fixtures/axe';
import { waitForCode, waitForMessage } from '../fixtures/mail';
import { refocus } from '../fixtures/browser';
import { PASSWORD, signUpViaApi, uniqueEmail } from '../fixtures/users';
import { Dashboard } from './pages/Dashboard';
import { OidcProviderPages } from './pages/OidcProviderPages';
import { ProfilePage } from './pages/ProfilePage';
import { ReauthPrompt } from './pages/ReauthPrompt';
import { SignInPage } from './pages/SignInPage';
import { SignUpPage } from './pages/SignUpPage';
import { UserMenu } from './pages/UserMenu';

const PROVIDER = 'Test IdP';

const NEW_PASSWORD = 'a brand new passphrase';

/** A second device: a new browser context, signed in through the sign-in card. */
async function signInElsewhere(
  browser: Browser,
  baseURL: string | undefined,
  email: string,
): Promise<Page> {
  const context = await browser.newContext({ baseURL });
  const page = await context.newPage();
  const signIn = new SignInPage(page);
  await signIn.goto();
  await signIn.signIn(email, PASSWORD);
  await expect(new Dashboard(page).userEmail).toHaveText(email);
  return page;
}

test('the user menu opens the profile, where the name is changed', async ({ page }) => {
  const user = await signUpViaApi(page.request);
  await page.goto('/');
  const menu = new UserMenu(page);
  await expect(menu.avatar).toHaveText(user.email[0].toUpperCase());
  await menu.goToProfile();
  await expect(page).toHaveURL(/\/profile$/);

  const profile = new ProfilePage(page);
  await expect(profile.email).toHaveText(user.email);
  await profile.name.fill('Grace Hopper');
  await profile.saveName.click();
  await expect(profile.status(profile.account, 'Your name was saved.')).toBeVisible();
  await expect(menu.avatar).toHaveText('GH');
  await expect(menu.trigger).toHaveAccessibleName('Account menu for Grace Hopper');

  // Survives a reload: it was saved on the server.
  await page.reload();
  await expect(profile.name).toHaveValue('Grace Hopper');
});

test('changing the password ends the session on another device when asked', async ({
  page,
  browser,
  baseURL,
}) => {
  const user = await signUpViaApi(page.request);
  const elsewhere = await signInElsewhere(browser, baseURL, user.email);
  const profile = new ProfilePage(page);
  await profile.goto();

  await profile.currentPassword.fill('not the password');
  await profile.newPassword.fill(NEW_PASSWORD);
  await profile.changePassword.click();
  await expect(profile.security.getByText('That password is not right.')).toBeVisible();

  await profile.currentPassword.fill(PASSWORD);
  await profile.signOutOthersCheckbox.check();
  await profile.changePassword.click();
  await expect(
    profile.status(
      profile.security,
      'Your password was changed, and 1 other session was signed out.',
    ),
  ).toBeVisible();
  await expect(profile.sessionItems).toHaveCount(1);

  // The other device learns it on its next request.
  await refocus(elsewhere);
  const signInThere = new SignInPage(elsewhere);
  await expect(signInThere.heading).toBeVisible();
  await signInThere.signIn(user.email, PASSWORD);
  await expect(signInThere.error).toContainText('The email or password is not right.');
  await signInThere.signIn(user.email, NEW_PASSWORD);
  await expect(new Dashboard(elsewhere).userEmail).toHaveText(user.email);
  await elsewhere.context().close();
});

test('a session revoked from the sessions list is signed out on its next request', async ({
  page,
  browser,
  baseURL,
}) => {
  const user = await signUpViaApi(page.request);
  const elsewhere = await signInElsewhere(browser, baseURL, user.email);
  const profile = new ProfilePage(page);
  await profile.goto();

  await expect(profile.sessionItems).toHaveCount(2);
  await expect(profile.sessionItems.filter({ hasText: 'This device' })).toHaveCount(1);
  const other = profile.otherSession();
  await expect(other).toContainText('Chrome on Linux');
  await expect(other).toContainText('Last active');
  await other.getByRole('button', { name: 'Sign out' }).click();
  await expect(profile.status(profile.sessions, 'Signed out of Chrome on Linux.')).toBeVisible();
  await expect(profile.sessionItems).toHaveCount(1);
  await expect(profile.signOutAllOthers).toBeDisabled();

  await refocus(elsewhere);
  await expect(new SignInPage(elsewhere).heading).toBeVisible();
  // This device is still signed in.
  await refocus(page);
  await expect(profile.account).toBeVisible();
  await elsewhere.context().close();
});

test('"sign out of all other sessions" leaves this one signed in', async ({
  page,
  browser,
  baseURL,
}) => {
  const user = await signUpViaApi(page.request);
  const a = await signInElsewhere(browser, baseURL, user.email);
  const b = await signInElsewhere(browser, baseURL, user.email);
  const profile = new ProfilePage(page);
  await profile.goto();
  await expect(profile.sessionItems).toHaveCount(3);
  await profile.signOutAllOthers.click();
  await expect(profile.status(profile.sessions, 'Signed out of 2 other sessions.')).toBeVisible();
  await expect(profile.sessionItems).toHaveCount(1);
  for (const other of [a, b]) {
    await refocus(other);
    await expect(new SignInPage(other).heading).toBeVisible();
    await other.context().close();
  }
  await refocus(page);
  await expect(profile.account).toBeVisible();
});

test('the email changes once the code sent to the new address is entered', async ({ page }) => {
  const user = await signUpViaApi(page.request);
  const newEmail = uniqueEmail('moved');
  const profile = new ProfilePage(page);
  await profile.goto();

  await profile.changeEmail.click();
  await expect(profile.newEmail).toBeFocused();
  await profile.newEmail.fill(newEmail);
  await profile.sendCode.click();
  await expect(profile.status(profile.account, `We sent a 6-digit code to ${newEmail}.`)).toBeVisible();
  await expect(profile.email).toHaveText(user.email);

  await profile.code.fill('000000' === (await waitForCode(newEmail)) ? '111111' : '000000');
  await profile.verify.click();
  await expect(profile.account.getByRole('alert')).toContainText('That code is not right.');

  await profile.code.fill(await waitForCode(newEmail));
  await profile.verify.click();
  await expect(profile.status(profile.account, `Your email address is now ${newEmail}.`)).toBeVisible();
  await expect(profile.email).toHaveText(newEmail);
  await expect(new UserMenu(page).trigger).toHaveAccessibleName(`Account menu for ${newEmail}`);

  // The old address got its sign-up code, then (mailed after the answer) the notice.
  const notice = await waitForMessage(user.email, { after: 1 });
  expect(notice.subject).toContain('email is changing');
  expect(notice.text).toContain(newEmail);
});

test('an email change asks for the password when the sign-in is not recent, then goes on', async ({
  page,
}) => {
  const user = await signUpViaApi(page.request);
  const newEmail = uniqueEmail('confirmed');
  // The server's window is tested at the HTTP level with a moved clock, and in a browser in
  // profile-reauthentication.spec.ts; here only the first answer is made stale.
  let stale = true;
  await page.route(
    (url) => url.pathname === '/v1/me/email',
    async (route) => {
      if (stale && route.request().method() === 'POST') {
        stale = false;
        await route.fulfill({
          status: 403,
          json: {
            error: {
              code: 'reauthentication_required',
              message: 'For your security, confirm it is you: enter your password again.',
            },
          },
        });
      } else {
        await route.continue();
      }
    },
  );
  const profile = new ProfilePage(page);
  await profile.goto();
  await profile.changeEmail.click();
  await profile.newEmail.fill(newEmail);
  await profile.sendCode.click();

  const prompt = new ReauthPrompt(profile.account);
  await expect(prompt.password).toBeFocused();
  // No passkey on this account: only the password is offered.
  await expect(prompt.usePasskey).toHaveCount(0);
  await prompt.password.fill('not the password');
  await prompt.confirm.click();
  await expect(profile.account.getByText('That password is not right.')).toBeVisible();
  await expect(prompt.password).toHaveAttribute('aria-invalid', 'true');

  await prompt.password.fill(PASSWORD);
  await prompt.confirm.click();
  await expect(prompt.root).toHaveCount(0);
  await expect(profile.status(profile.account, `We sent a 6-digit code to ${newEmail}.`)).toBeVisible();
  await profile.code.fill(await waitForCode(newEmail));
  await profile.verify.click();
  await expect(profile.email).toHaveText(newEmail);
  expect(user.email).not.toBe(newEmail);
});

test('a provider is linked from the profile, listed, and unlinked', async ({ page, browser, baseURL }) => {
  const user = await signUpViaApi(page.request);
  const login = uniqueEmail('linked');
  const profile = new ProfilePage(page);
  await profile.goto();
  await expect(profile.linkedAccounts).toContainText('No linked accounts.');

  await profile.link(PROVIDER).click();
  const linked = profile.status(profile.linkedAccounts, 'The account was linked.');
  await new OidcProviderPages(page).signIn(login, linked);
  await expect(linked).toBeVisible();
  await expect(page).toHaveURL(/\/profile$/);
  await expect(profile.linkedItems).toHaveCount(1);
  await expect(profile.linkedItems.first()).toContainText(PROVIDER);
  await expect(profile.linkedItems.first()).toContainText(login);
  await expect(profile.link(PROVIDER)).toHaveCount(0);
  await expectNoSeriousViolations(page, 'profile with a linked account');

  // The provider account is now a way into this account, from a browser that never saw it.
  const elsewhere = await browser.newContext({ baseURL });
  const there = await elsewhere.newPage();
  const signIn = new SignInPage(there);
  await signIn.goto();
  await there.getByRole('button', { name: `Continue with ${PROVIDER}` }).click();
  const dashboard = new Dashboard(there);
  await new OidcProviderPages(there).signIn(login, dashboard.root);
  await expect(dashboard.userEmail).toHaveText(user.email);
  await elsewhere.close();

  await profile.unlink(PROVIDER).click();
  await expect(profile.status(profile.linkedAccounts, `Unlinked ${PROVIDER}.`)).toBeVisible();
  await expect(profile.linkedAccounts).toContainText('No linked accounts.');
  await expect(profile.link(PROVIDER)).toBeVisible();
  const identities = await (await page.request.get('/v1/oauth/identities')).json();
  expect(identities).toEqual([]);
});

test('a provider account linked to someone else is refused, inline', async ({ page, browser, baseURL }) => {
  // The provider account belongs to another user already (it signed up with it).
  const login = uniqueEmail('taken');
  const owner = await browser.newContext({ baseURL });
  const ownerPage = await owner.newPage();
  await new SignInPage(ownerPage).goto();
  await ownerPage.getByRole('button', { name: `Continue with ${PROVIDER}` }).click();
  const consent = ownerPage.getByTestId('oauth-consent');
  await new OidcProviderPages(ownerPage).signIn(login, consent);
  await new SignUpPage(ownerPage).consent.check();
  await consent.getByRole('button', { name: 'Continue' }).click();
  await expect(new Dashboard(ownerPage).userEmail).toHaveText(login);

  // Its owner cannot unlink their only way in.
  const ownerProfile = new ProfilePage(ownerPage);
  await ownerProfile.goto();
  await expect(ownerProfile.linkedItems).toHaveCount(1);
  // No password yet: the security section offers to set one instead of changing it.
  await expect(ownerProfile.security.getByRole('heading', { name: 'Set a password' })).toBeVisible();
  await expect(ownerProfile.currentPassword).toHaveCount(0);
  await ownerProfile.unlink(PROVIDER).click();
  await expect(ownerProfile.linkedAccounts.getByRole('alert')).toContainText('only way to sign in');
  await expect(ownerProfile.linkedItems).toHaveCount(1);

  await signUpViaApi(page.request);
  const profile = new ProfilePage(page);
  await profile.goto();
  await profile.link(PROVIDER).click();
  // The provider remembers nobody in this browser: sign in there as the same account.
  const refused = profile.linkedAccounts.getByRole('alert');
  await new OidcProviderPages(page).signIn(login, refused);
  await expect(refused).toContainText(
    'That account is already linked to another user.',
  );
  await expect(page).toHaveURL(/\/profile$/);
  await expect(profile.linkedAccounts).toContainText('No linked accounts.');
  await owner.close();
});
