// Second factors in the browser: an authenticator app added from the profile (the codes
// computed from the key it shows, as a phone would), then a password sign-in that stops at
// the second step inside <SignIn>; a backup code instead; a passkey sign-in that needs no
// second step; an environment that requires a second factor walking a new user through
// <SetupMfa>. A pending session never shows what <SignedIn> or an `is_signed_in` branch
// guards, watched from the first paint.

import { expect, test, type Page } from '@playwright/test';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { VirtualAuthenticator } from '../fixtures/authenticator';
import { expectNoSeriousViolations } from '../fixtures/axe';
import { waitForCode } from '../fixtures/mail';
import { e2eDir, startServer } from '../fixtures/processes';
import { totpCode } from '../fixtures/totp';
import { PASSWORD, signUpViaApi, uniqueEmail } from '../fixtures/users';
import { Dashboard } from './pages/Dashboard';
import { PasskeysPanel } from './pages/PasskeysPanel';
import { ProfilePage } from './pages/ProfilePage';
import { ReauthPrompt } from './pages/ReauthPrompt';
import { SecondFactorStep, SetupMfaPage, TwoStepPanel } from './pages/SecondFactorPages';
import { SignInPage } from './pages/SignInPage';
import { SignUpPage } from './pages/SignUpPage';

/**
 * Records, from before the first paint of every page, whether what only an active session
 * may see (the dashboard, or the header's `is_signed_in` badge) was ever in the document.
 */
async function watchProtectedContent(page: Page): Promise<void> {
  await page.addInitScript(() => {
    const w = window as unknown as { protectedSeen: string[] };
    w.protectedSeen = [];
    const look = (): void => {
      for (const id of ['dashboard', 'signed-in-badge']) {
        if (document.querySelector(`[data-testid="${id}"]`) && !w.protectedSeen.includes(id)) {
          w.protectedSeen.push(id);
        }
      }
    };
    new MutationObserver(look).observe(document, { childList: true, subtree: true });
  });
}

async function protectedSeen(page: Page): Promise<string[]> {
  return page.evaluate(() => (window as unknown as { protectedSeen: string[] }).protectedSeen);
}

/** From the profile (the page is on it): adds an authenticator; the key and backup codes. */
async function enrolAuthenticator(page: Page): Promise<{ secret: string; backupCodes: string[] }> {
  const panel = new TwoStepPanel(page);
  await panel.add.click();
  await panel.setUp.click();
  await expect(panel.qr).toBeVisible();
  await expectNoSeriousViolations(page, 'authenticator enrolment');
  const secret = (await panel.secret.textContent())?.trim() ?? '';
  expect(secret).toMatch(/^[A-Z2-7]{16,}$/);
  await panel.code.fill(totpCode(secret));
  await panel.confirm.click();
  await expect(panel.notice).toHaveText('Two-step verification is on.');
  await expect(panel.backupCodes).toHaveCount(10);
  await expectNoSeriousViolations(page, 'backup codes');
  const backupCodes = await panel.codes();
  await expect(panel.left).toHaveText('Backup codes: 10 left');
  return { secret, backupCodes };
}

async function signOutFromProfile(page: Page): Promise<void> {
  await page.goto('/');
  await new Dashboard(page).signOut.click();
  await expect(new SignInPage(page).heading).toBeVisible();
}

test('an authenticator added in the profile is asked for after the password', async ({ page }) => {
  const user = await signUpViaApi(page.request);
  await new ProfilePage(page).goto();
  const { secret, backupCodes } = await enrolAuthenticator(page);
  await signOutFromProfile(page);

  await watchProtectedContent(page);
  const signIn = new SignInPage(page);
  const step = new SecondFactorStep(page);
  await signIn.signIn(user.email, PASSWORD);
  await expect(step.heading).toBeVisible();
  await expect(signIn.heading).toBeHidden();
  const me = await page.evaluate(async () => (await fetch('/me')).json());
  expect(me.session).toMatchObject({
    status: 'pending',
    gates: [{ key: 'second_factor' }],
    currentGate: { key: 'second_factor' },
  });

  // A reload paints the pending session from the start: still the second step, nothing more.
  await page.reload();
  await expect(step.heading).toBeVisible();
  expect(await protectedSeen(page)).toEqual([]);

  // A wrong code stays on the step, announced.
  const right = totpCode(secret, 1);
  await expectNoSeriousViolations(page, 'second step');
  await step.code.fill(right === '000000' ? '111111' : '000000');
  await step.verify.click();
  await expect(step.error).toBeVisible();
  await expectNoSeriousViolations(page, 'second step with an error');
  await expect(step.code).toHaveAttribute('autocomplete', 'one-time-code');
  expect(await protectedSeen(page)).toEqual([]);

  // The enrolment used this step's code: the next one (one step of skew is allowed).
  await step.code.fill(right);
  await step.verify.click();
  await expect(new Dashboard(page).userEmail).toHaveText(user.email);
  await expect(page.getByTestId('signed-in-badge')).toBeVisible();

  // A change that needs a recent second factor (the server's answer stands in for ten
  // minutes passing): the prompt asks for a code, here a backup code, and the change goes on.
  await new ProfilePage(page).goto();
  const panel = new TwoStepPanel(page);
  await page.route(
    (url) => url.pathname === '/v1/me/mfa/backup-codes',
    (route) =>
      route.fulfill({
        status: 403,
        json: {
          error: {
            code: 'second_factor_required',
            message: 'For your security, confirm it is you with your second factor first.',
          },
        },
      }),
    { times: 1 },
  );
  await panel.regenerate.click();
  const prompt = new ReauthPrompt(panel.root);
  await expect(prompt.code).toBeVisible();
  await expect(prompt.password).toBeHidden();
  await expectNoSeriousViolations(page, 'second-factor prompt');
  await prompt.useBackupCode.click();
  await prompt.backupCode.fill(backupCodes[0] ?? '');
  await prompt.confirm.click();
  await expect(panel.backupCodes).toHaveCount(10);
  expect(await panel.codes()).not.toContain(backupCodes[1]);
  await expect(panel.left).toHaveText('Backup codes: 10 left');

  // Removing the authenticator (the second factor was just confirmed): off again, said so.
  await panel.remove.click();
  await expect(panel.notice).toHaveText('Removed the authenticator app.');
  await expect(panel.add).toBeVisible();
  await expect(panel.remove).toBeHidden();
});

test('a backup code signs in once', async ({ page }) => {
  const user = await signUpViaApi(page.request);
  await new ProfilePage(page).goto();
  const { backupCodes } = await enrolAuthenticator(page);
  await signOutFromProfile(page);

  const signIn = new SignInPage(page);
  const step = new SecondFactorStep(page);
  await signIn.signIn(user.email, PASSWORD);
  await step.useBackupCode.click();
  await step.backupCode.fill(backupCodes[0] ?? '');
  await step.verify.click();
  await expect(new Dashboard(page).userEmail).toHaveText(user.email);

  await new ProfilePage(page).goto();
  await expect(new TwoStepPanel(page).left).toHaveText('Backup codes: 9 left');
  await signOutFromProfile(page);

  // The same code again: refused; the step stays.
  await signIn.signIn(user.email, PASSWORD);
  await step.useBackupCode.click();
  await step.backupCode.fill(backupCodes[0] ?? '');
  await step.verify.click();
  await expect(step.error).toBeVisible();
  await step.backupCode.fill(backupCodes[1] ?? '');
  await step.verify.click();
  await expect(new Dashboard(page).userEmail).toHaveText(user.email);
});

test('a passkey sign-in needs no second step', async ({ page }) => {
  await VirtualAuthenticator.attach(page);
  const user = await signUpViaApi(page.request);
  await new ProfilePage(page).goto();
  await enrolAuthenticator(page);
  const passkeys = new PasskeysPanel(page);
  await passkeys.add.click();
  await expect(passkeys.notice).toContainText('Added');

  // Signed out from the dashboard. The sign-in card then asks for passkeys in the Email
  // field's autofill, which the virtual authenticator would answer at once, without the user
  // picking anything: that first request is refused, and the button asks anew.
  await page.goto('/');
  const autofillOptions = '**/v1/passkeys/sign-in/options';
  let markRefused = (): void => undefined;
  const refused = new Promise<void>((resolve) => {
    markRefused = resolve;
  });
  await page.route(autofillOptions, async (route) => {
    await route.abort();
    markRefused();
  });
  await new Dashboard(page).signOut.click();
  const signIn = new SignInPage(page);
  await expect(signIn.heading).toBeVisible();
  await refused;
  await page.unroute(autofillOptions);

  await signIn.passkey.click();
  await expect(new Dashboard(page).userEmail).toHaveText(user.email);
  await expect(new SecondFactorStep(page).heading).toBeHidden();
});

test('an environment that requires a second factor walks a new user through <SetupMfa>', async ({
  page,
}) => {
  test.setTimeout(60_000);
  const smtpUrl = process.env.MAIL_SMTP_URL;
  if (!smtpUrl) throw new Error('MAIL_SMTP_URL is not set: the global setup starts the SMTP sink');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'torii-e2e-mfa-'));
  const baseConfig = fs.readFileSync(path.join(e2eDir, 'fixtures', 'torii.toml'), 'utf8');
  const methodsLine = /^methods = .*$/m;
  expect(baseConfig, 'fixtures/torii.toml lists the methods of its one environment').toMatch(
    methodsLine,
  );
  // In the environment's own table, before its sub-tables.
  const configFile = path.join(dir, 'torii-mfa.toml');
  fs.writeFileSync(configFile, baseConfig.replace(methodsLine, (line) => `${line}\nmfa = "required"`));
  const server = await startServer({
    name: 'torii-server-mfa',
    databaseUrl: `sqlite://${path.join(dir, 'mfa.db')}`,
    smtpUrl,
    configFile,
  });
  try {
    await watchProtectedContent(page);
    const email = uniqueEmail('mfa');
    const signUp = new SignUpPage(page);
    await page.goto(`${server.url}/sign-up`);
    await signUp.fillDetails(email, PASSWORD);
    await signUp.consent.check();
    await signUp.submit.click();
    await signUp.enterCode(await waitForCode(email));

    // Signed up, but pending on setup_mfa: the gate's page, through <RedirectToGates>.
    const setup = new SetupMfaPage(page);
    await expect(setup.heading).toBeVisible();
    await expect(page).toHaveURL(/\/setup-two-step$/);
    await expectNoSeriousViolations(page, 'two-step setup');
    await setup.setUp.click();
    await expect(setup.qr).toBeVisible();
    const secret = (await setup.secret.textContent())?.trim() ?? '';
    await setup.code.fill(totpCode(secret));
    await setup.confirm.click();
    await expect(setup.backupCodes).toHaveCount(10);
    expect(await protectedSeen(page), 'nothing protected before the codes are saved').toEqual([]);
    await setup.continue.click();
    await expect(new Dashboard(page).userEmail).toHaveText(email);
  } finally {
    await server.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
