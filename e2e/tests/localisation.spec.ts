// Every card in French: the demo starts in French with `?lang=fr` (its language menu switches
// in place), and each screen a user can reach — sign-in and its steps, sign-up and its steps,
// the second sign-in step, the gate screens, the user button and its menu, the profile with
// every section and the re-authentication prompt — is read for English left behind.
//
// What counts as English left behind: fixtures/strings.json lists every built-in text of
// the components in English and French (a cargo test keeps it in step with the table). On
// each screen the spec reads every text node and every `aria-label`, `placeholder`, `title`
// and `alt` under the elements marked `lang="fr"` (every card root carries it), and fails on
// any English text of the table found there. A template is cut at its `{values}` and each
// literal piece is looked for. Left out, so that the check only fails on real English:
// - texts whose French is the same (a word both languages share);
// - pieces shorter than 4 characters once trimmed ("or", "on", "·"), too short to tell a
//   language;
// - pieces found inside some French text of the table ("Sessions" in "Sessions actives"):
//   seeing them proves nothing;
// - text inside `<code>` (backup codes and the authenticator key are random letters).
// The user's own data (email, device names from the server) is not in the table.

import { expect, test, type Locator, type Page } from '@playwright/test';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { requireUserGate, userIdByEmail } from '../fixtures/admin';
import { VirtualAuthenticator } from '../fixtures/authenticator';
import { messagesFor, waitForCode } from '../fixtures/mail';
import { forProject, freshDatabase } from '../fixtures/databases';
import { e2eDir, startServer } from '../fixtures/processes';
import { totpCode } from '../fixtures/totp';
import { PASSWORD, signUpViaApi, uniqueEmail } from '../fixtures/users';
import { Dashboard } from './pages/Dashboard';
import { OidcProviderPages } from './pages/OidcProviderPages';
import { ProfilePage } from './pages/ProfilePage';
import { EnrollSteps, SecondFactorStep, SetupMfaPage } from './pages/SecondFactorPages';

interface Entry {
  key: string;
  en: string;
  fr: string;
}

const entries: Entry[] = JSON.parse(
  fs.readFileSync(path.join(e2eDir, 'fixtures', 'strings.json'), 'utf8'),
) as Entry[];

const french = new Map(entries.map((entry) => [entry.key, entry.fr]));

/** The French text of `key` (`sign_in.title`), for locators. */
function fr(key: string): string {
  const text = french.get(key);
  if (text === undefined) throw new Error(`fixtures/strings.json has no key ${key}`);
  return text;
}

/** The French text of a template up to its first value ("Lier " of "Lier {provider}"). */
function frStart(key: string): string {
  return fr(key).split('{')[0];
}

/** The English pieces the check looks for, each with the key it comes from (see the top). */
const englishPieces: { key: string; piece: string }[] = entries
  .filter((entry) => entry.en !== entry.fr)
  .flatMap((entry) =>
    entry.en
      .split(/\{[a-z_]+\}/)
      .map((piece) => piece.trim())
      .filter((piece) => piece.length >= 4)
      .filter((piece) => !entries.some((other) => other.fr.includes(piece)))
      .map((piece) => ({ key: entry.key, piece })),
  );

/**
 * The elements that are the components' roots: cards, the profile and its sections, the user
 * button and its menu. (The demo's own gate panels borrow the card's class; their words are
 * the demo's, which stay English.)
 */
const ROOTS = [
  '.torii-card:not([data-testid^="gate-"])',
  '.torii-profile',
  '.torii-user-button',
  '.torii-user-menu',
].join(', ');

/** Every text and labelling attribute under the page's `lang="fr"` elements. */
async function frenchTexts(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const out: string[] = [];
    for (const root of Array.from(document.querySelectorAll('[lang="fr"]'))) {
      const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
      for (let node = walker.nextNode(); node; node = walker.nextNode()) {
        if (node.parentElement?.closest('code')) continue;
        const text = node.textContent?.trim();
        if (text) out.push(text);
      }
      for (const element of [root, ...Array.from(root.querySelectorAll('*'))]) {
        for (const name of ['aria-label', 'placeholder', 'title', 'alt']) {
          const value = element.getAttribute(name);
          if (value) out.push(value);
        }
      }
    }
    return out;
  });
}

/**
 * Checks the screen: every component root on it says `lang="fr"`, and no English text of
 * the table is left under them.
 */
async function expectFrench(page: Page, screen: string): Promise<void> {
  const roots = page.locator(ROOTS);
  expect(await roots.count(), `${screen}: a component is on the page`).toBeGreaterThan(0);
  const langs = await roots.evaluateAll((elements) =>
    elements.map((e) => `${e.className}: ${e.getAttribute('lang')}`),
  );
  for (const lang of langs) {
    expect(lang, `${screen}: every component root is in French`).toMatch(/: fr$/);
  }
  const texts = await frenchTexts(page);
  expect(texts.length, `${screen}: French text is on the page`).toBeGreaterThan(0);
  expect(englishIn(texts), `${screen}: English left behind`).toEqual([]);
}

/** The English pieces of the table found in `texts`, with their keys. */
function englishIn(texts: string[]): string[] {
  return englishPieces.flatMap(({ key, piece }) =>
    texts.filter((text) => text.includes(piece)).map((text) => `${key}: "${piece}" in "${text}"`),
  );
}

/** A button by its French name (`key` in the table). */
function button(within: Page | Locator, key: string, exact = true): Locator {
  return within.getByRole('button', { name: fr(key), exact });
}

/** The `<UserButton>`'s trigger, named in French. */
function userButton(page: Page): Locator {
  return page.getByRole('button', { name: new RegExp(`^${frStart('user_button.menu_button')}`) });
}

test('the table lists a French text for every English one', () => {
  expect(entries.length).toBeGreaterThan(250);
  for (const entry of entries) {
    expect(entry.fr, entry.key).not.toBe('');
  }
  // The rule above keeps most of the table: a check that looks for nothing can't fail.
  expect(englishPieces.length).toBeGreaterThan(entries.length * 0.8);
});

test('the sign-in card speaks French at every step', async ({ page }) => {
  await page.goto('/?lang=fr');
  const card = page.locator('.torii-card');
  await expect(card.getByRole('heading', { name: fr('sign_in.title') })).toBeVisible();
  // The credentials step, with the provider buttons.
  await expect(card.locator('[data-provider]').first()).toBeVisible();
  await expectFrench(page, 'sign-in');
  // The check finds English put into a French card.
  await card.evaluate((root) => {
    const planted = document.createElement('span');
    planted.id = 'planted';
    planted.textContent = 'Forgot password?';
    root.append(planted);
  });
  expect(englishIn(await frenchTexts(page))).toEqual([
    'sign_in.forgot_password: "Forgot password?" in "Forgot password?"',
  ]);
  await page.locator('#planted').evaluate((planted) => planted.remove());

  // A refusal from the server, told by its code.
  await card.locator('input[name="email"]').fill(uniqueEmail('nobody'));
  await card.locator('input[name="password"]').fill('not the password');
  await button(card, 'sign_in.submit').click();
  await expect(card.getByRole('alert').filter({ hasText: /\S/ })).toHaveText(
    fr('errors.invalid_credentials'),
  );
  await expectFrench(page, 'sign-in error');

  // Password reset: the email, then the code.
  await button(card, 'sign_in.forgot_password').click();
  await expect(card.getByRole('heading', { name: fr('sign_in.reset_title') })).toBeVisible();
  await expectFrench(page, 'password reset: email');
  const email = uniqueEmail('reset');
  await card.locator('input[name="email"]').fill(email);
  await button(card, 'common.send_code').click();
  await expect(card.getByLabel(fr('sign_in.reset_code'))).toBeVisible();
  await expectFrench(page, 'password reset: code');
  await button(card, 'sign_in.back_to_sign_in').click();

  // The emailed sign-in link.
  await card.locator('input[name="email"]').fill(email);
  await button(card, 'sign_in.email_link').click();
  await expect(card.getByRole('heading', { name: fr('sign_in.link_sent_title') })).toBeVisible();
  await expectFrench(page, 'sign-in link sent');
});

test('the sign-up card speaks French at every step, then the user button and its menu', async ({
  page,
}) => {
  await page.goto('/sign-up?lang=fr');
  const card = page.locator('.torii-card');
  await expect(card.getByRole('heading', { name: fr('sign_up.title') })).toBeVisible();
  await expectFrench(page, 'sign-up details');

  await button(card, 'sign_up.use_passkey').click();
  await expect(button(card, 'sign_up.use_password')).toBeVisible();
  await expectFrench(page, 'sign-up details with a passkey');
  await button(card, 'sign_up.use_password').click();

  const email = uniqueEmail('inscription');
  await card.locator('input[name="email"]').fill(email);
  await card.locator('input[name="password"]').fill(PASSWORD);
  await card.getByRole('checkbox').check();
  await button(card, 'sign_up.submit').click();
  await expect(card.getByLabel(fr('common.code_label'))).toBeVisible();
  await expectFrench(page, 'sign-up code');
  await card.getByLabel(fr('common.code_label')).fill(await waitForCode(email));
  await button(card, 'common.verify').click();

  // Signed in: the user button, then its menu.
  const trigger = userButton(page);
  await expect(trigger).toBeVisible();
  await expectFrench(page, 'user button');
  await trigger.click();
  const menu = page.getByRole('menu', { name: fr('user_button.menu') });
  await expect(menu).toBeVisible();
  await expect(
    menu.getByRole('menuitem', { name: fr('user_button.manage_account') }),
  ).toBeVisible();
  await expectFrench(page, 'user menu');

  // The language menu switches in place: the menu's items follow.
  await page.keyboard.press('Escape');
  await page.getByTestId('language').selectOption('en');
  await expect(page.getByRole('button', { name: /^Account menu for / })).toBeVisible();
  await expect(page.locator('.torii-user-button')).toHaveAttribute('lang', 'en');
});

test('the passkey step of a passkey-first sign-up speaks French', async ({ page }) => {
  await VirtualAuthenticator.attach(page);
  // The passkey's options refused once: the step stays, with its error and its choices.
  await page.route('**/v1/passkeys/registration/options', (route) => route.abort(), {
    times: 1,
  });
  await page.goto('/sign-up?lang=fr');
  const card = page.locator('.torii-card');
  await button(card, 'sign_up.use_passkey').click();
  const email = uniqueEmail('cle');
  await card.locator('input[name="email"]').fill(email);
  await card.getByRole('checkbox').check();
  await button(card, 'sign_up.submit').click();
  await card.getByLabel(fr('common.code_label')).fill(await waitForCode(email));
  await button(card, 'common.verify').click();
  await expect(card.getByRole('alert').filter({ hasText: /\S/ })).toHaveText(fr('errors.network'));
  await expect(button(card, 'sign_up.try_again')).toBeVisible();
  await expectFrench(page, 'sign-up passkey step');
  await button(card, 'sign_up.try_again').click();
  await expect(new Dashboard(page).userEmail).toHaveText(email);
});

test('the consent step of a sign-up through a provider speaks French', async ({ page }) => {
  await page.goto('/?lang=fr');
  await page.locator('.torii-card [data-provider]').first().click();
  const consentStep = page.getByTestId('oauth-consent');
  await new OidcProviderPages(page).signIn(uniqueEmail('oidc-fr'), consentStep);
  // Back from the provider on a page load: the language is chosen again, in place.
  await page.getByTestId('language').selectOption('fr');
  await expect(button(consentStep, 'common.continue_')).toBeDisabled();
  await expectFrench(page, 'sign-up consent after a provider');
});

test('the profile speaks French in every section, with the re-authentication prompt', async ({
  page,
  request,
}) => {
  test.setTimeout(90_000);
  await VirtualAuthenticator.attach(page);
  const user = await signUpViaApi(page.request);
  // Another session, for the sessions list's "sign out" button.
  const elsewhere = await request.post('/v1/sign-in/password', {
    data: { email: user.email, password: PASSWORD },
  });
  expect(elsewhere.status(), await elsewhere.text()).toBe(200);

  const profile = new ProfilePage(page);
  await page.goto('/profile?lang=fr');
  const account = page.locator('[data-section="account"]');
  const security = page.locator('[data-section="security"]');
  const twoStep = page.locator('[data-section="two-step"]');
  const sessions = page.locator('[data-section="sessions"]');
  await expect(account.getByRole('heading', { name: fr('profile.account_title') })).toBeVisible();
  await expect(profile.email).toHaveText(user.email);
  await expect(sessions.getByRole('listitem')).toHaveCount(2);
  await expect(security.getByText(fr('passkeys.none'))).toBeVisible();
  await expect(security.getByText(fr('linked_accounts.none'))).toBeVisible();
  await expect(
    security.getByRole('button', { name: new RegExp(`^${frStart('linked_accounts.link')}`) }),
  ).toBeVisible();
  await expectFrench(page, 'profile');

  // Account: the name, then the email change and its steps.
  await account.locator('input[name="name"]').fill('Ada Lovelace');
  await button(account, 'profile.save_name').click();
  await expect(account.getByRole('status')).toHaveText(fr('profile.name_saved'));
  await button(account, 'profile.change_email').click();
  await expect(account.getByLabel(fr('profile.new_email'))).toBeVisible();
  await expectFrench(page, 'profile: new email');

  // The server asks for a recent sign-in (its answer stands in for ten minutes passing).
  await page.route(
    (url) => url.pathname === '/v1/me/email',
    (route) =>
      route.fulfill({
        status: 403,
        json: {
          error: {
            code: 'reauthentication_required',
            message: 'Confirm it is you to go on.',
          },
        },
      }),
    { times: 1 },
  );
  const newEmail = uniqueEmail('nouvelle');
  await account.getByLabel(fr('profile.new_email')).fill(newEmail);
  await button(account, 'common.send_code').click();
  const prompt = account.getByRole('group', { name: fr('reauth.title') });
  await expect(prompt.getByLabel(fr('common.password'), { exact: true })).toBeVisible();
  await expectFrench(page, 'profile: re-authentication prompt');
  await prompt.getByLabel(fr('common.password'), { exact: true }).fill('not the password');
  await button(prompt, 'common.confirm').click();
  await expect(prompt.getByRole('alert').filter({ hasText: /\S/ })).toBeVisible();
  await expectFrench(page, 'profile: re-authentication refused');
  await prompt.getByLabel(fr('common.password'), { exact: true }).fill(PASSWORD);
  await button(prompt, 'common.confirm').click();
  await expect(account.getByLabel(fr('common.code_label'))).toBeVisible();
  await expectFrench(page, 'profile: email code');
  const wrong = String((Number(await waitForCode(newEmail)) + 1) % 1_000_000).padStart(6, '0');
  await account.getByLabel(fr('common.code_label')).fill(wrong);
  await button(account, 'common.verify').click();
  await expect(account.getByRole('alert').filter({ hasText: /\S/ })).toContainText(
    fr('errors.invalid_code'),
  );
  await expectFrench(page, 'profile: wrong email code');
  await button(account, 'common.cancel').click();

  // The password: a wrong current password, told in French.
  await security.getByLabel(fr('profile.current_password')).fill('not the password');
  await security.getByLabel(fr('profile.new_password')).fill('another good passphrase');
  await button(security, 'profile.change_password').click();
  await expect(security.getByRole('alert').filter({ hasText: /\S/ }).first()).toBeVisible();
  await expectFrench(page, 'profile: password refused');

  // Passkeys: one added, with its dates, and its rename field.
  await button(security, 'passkeys.add').click();
  await expect(security.getByTestId('passkey')).toHaveCount(1);
  await expect(security.getByTestId('passkey')).toContainText(fr('passkeys.never'));
  await expectFrench(page, 'profile: a passkey');
  await security.getByRole('button', { name: new RegExp(`^${fr('passkeys.rename')} `) }).click();
  await expect(security.getByLabel(fr('passkeys.name_label'))).toBeVisible();
  await expectFrench(page, 'profile: renaming a passkey');
  await button(security, 'common.cancel').click();

  // Two-step verification: the enrolment steps, then the backup codes.
  await button(twoStep, 'two_step.add_authenticator').click();
  const enrol = new EnrollSteps(twoStep);
  await button(twoStep, 'two_step.set_up').click();
  await expect(twoStep.getByRole('img', { name: fr('two_step.qr_alt') })).toBeVisible();
  await expectFrench(page, 'profile: authenticator enrolment');
  const secret = (await enrol.secret.textContent())?.trim() ?? '';
  await twoStep.getByLabel(fr('second_factor.authenticator_code')).fill(totpCode(secret));
  await button(twoStep, 'common.confirm').click();
  await expect(enrol.backupCodes).toHaveCount(10);
  await expect(twoStep.getByTestId('backup-codes-left')).toHaveText(
    'Codes de secours : 10 restants',
  );
  await expectFrench(page, 'profile: backup codes');

  // Sessions: the other one signed out.
  await button(sessions, 'common.sign_out').click();
  await expect(sessions.getByRole('listitem')).toHaveCount(1);
  await expect(sessions.getByRole('status')).toContainText(frStart('sessions.signed_out_of'));
  await expectFrench(page, 'profile: a session signed out');

  // The second sign-in step, after signing out from the user menu. (The sign-in card asks
  // for passkeys in the email field's autofill, which the virtual authenticator would answer
  // at once: a password sign-in is wanted here.)
  await page.route('**/v1/passkeys/sign-in/options', (route) => route.abort());
  await userButton(page).click();
  await page.getByRole('menuitem', { name: fr('common.sign_out') }).click();
  const card = page.locator('.torii-card');
  await expect(card.getByRole('heading', { name: fr('sign_in.title') })).toBeVisible();
  await card.locator('input[name="email"]').fill(user.email);
  await card.locator('input[name="password"]').fill(PASSWORD);
  await button(card, 'sign_in.submit').click();
  const step = new SecondFactorStep(page);
  await expect(step.root.getByRole('heading', { name: fr('second_factor.title') })).toBeVisible();
  await expectFrench(page, 'second factor: authenticator code');
  await button(step.root, 'second_factor.use_backup_code').click();
  await expect(step.root.getByLabel(fr('second_factor.backup_code'))).toBeVisible();
  await expectFrench(page, 'second factor: backup code');
});

test('the gate screens speak French', async ({ page, request }) => {
  const { email } = await signUpViaApi(page.request);
  const id = await userIdByEmail(request, email);
  await requireUserGate(request, id, 'legal_acceptance');
  await requireUserGate(request, id, 'email_verification');
  await page.goto('/?lang=fr');
  await expect(page.getByRole('heading', { name: fr('gates.terms_title') })).toBeVisible();
  await expectFrench(page, 'accept terms');
  await button(page, 'gates.accept').click();

  await expect(page.getByRole('heading', { name: fr('gates.verify_title') })).toBeVisible();
  await expectFrench(page, 'verify email');
  const mailsBefore = (await messagesFor(email)).length;
  await button(page, 'common.send_code').click();
  await expect(page.getByLabel(fr('common.code_label'))).toBeVisible();
  await expectFrench(page, 'verify email: code sent');
  const code = await waitForCode(email, { after: mailsBefore });
  const wrong = String((Number(code) + 1) % 1_000_000).padStart(6, '0');
  await page.getByLabel(fr('common.code_label')).fill(wrong);
  await button(page, 'common.verify').click();
  await expect(page.getByRole('alert').filter({ hasText: /\S/ })).toContainText(
    fr('errors.invalid_code'),
  );
  await expectFrench(page, 'verify email: wrong code');
});

test('<SetupMfa> speaks French on a server that requires a second factor', async ({ page }) => {
  test.setTimeout(60_000);
  const smtpUrl = process.env.MAIL_SMTP_URL;
  if (!smtpUrl) throw new Error('MAIL_SMTP_URL is not set: the global setup starts the SMTP sink');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'torii-e2e-fr-mfa-'));
  const baseConfig = fs.readFileSync(path.join(e2eDir, 'fixtures', 'torii.toml'), 'utf8');
  const configFile = path.join(dir, 'torii-mfa.toml');
  fs.writeFileSync(
    configFile,
    baseConfig.replace(/^methods = .*$/m, (line) => `${line}\nmfa = "required"`),
  );
  const database = freshDatabase('fr-mfa');
  const server = await startServer({
    name: forProject('torii-server-fr-mfa'),
    databaseUrl: database.url,
    smtpUrl,
    configFile,
  });
  try {
    const { email } = await signUpViaApi(page.request, uniqueEmail('mfa'), PASSWORD, server.url);
    await page.goto(`${server.url}/?lang=fr`);
    const setup = new SetupMfaPage(page);
    await expect(
      setup.root.getByRole('heading', { name: fr('two_step.setup_title') }),
    ).toBeVisible();
    await expectFrench(page, 'setup two-step');
    await button(setup.root, 'two_step.set_up').click();
    await expect(setup.root.getByRole('img', { name: fr('two_step.qr_alt') })).toBeVisible();
    await expectFrench(page, 'setup two-step: scan');
    const secret = (await setup.secret.textContent())?.trim() ?? '';
    await setup.root.getByLabel(fr('second_factor.authenticator_code')).fill(totpCode(secret));
    await button(setup.root, 'common.confirm').click();
    await expect(setup.backupCodes).toHaveCount(10);
    await expectFrench(page, 'setup two-step: backup codes');
    await button(setup.root, 'common.continue_').click();
    await expect(new Dashboard(page).userEmail).toHaveText(email);
  } finally {
    await server.stop();
    database.drop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
