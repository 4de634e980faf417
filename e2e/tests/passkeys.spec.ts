// Passkeys in a real browser: Chromium's virtual authenticator (resident keys, user
// verification) stands in for a fingerprint reader. Adding a passkey in the profile's
// security section, signing in with it without typing an email, passkey-first sign-up, a
// passkey gone from the device, a passkey deleted from the account, and a ceremony that
// starts on one server node and finishes on another (two nodes on one PostgreSQL database).

import { expect, test, type Page } from '@playwright/test';
import fs from 'node:fs';
import path from 'node:path';
import { VirtualAuthenticator } from '../fixtures/authenticator';
import { waitForCode } from '../fixtures/mail';
import { forProject, sharedDatabase, type TestDatabase } from '../fixtures/databases';
import { e2eDir, freePort, startServer, type ToriiServer } from '../fixtures/processes';
import { signUpViaApi, uniqueEmail } from '../fixtures/users';
import { Dashboard } from './pages/Dashboard';
import { PasskeysPanel } from './pages/PasskeysPanel';
import { ProfilePage } from './pages/ProfilePage';
import { SignInPage } from './pages/SignInPage';
import { SignUpPage } from './pages/SignUpPage';

/** Adds a passkey from the profile (the page is on it); resolves once it is listed. */
async function addPasskey(page: Page): Promise<void> {
  const passkeys = new PasskeysPanel(page);
  const before = await passkeys.items.count();
  await passkeys.add.click();
  await expect(passkeys.notice).toContainText('Added');
  await expect(passkeys.items).toHaveCount(before + 1);
}

/**
 * Signs out from the dashboard (the page is on it) and keeps the sign-in card from offering
 * passkeys in the Email field's autofill:
 * the virtual authenticator answers such a request at once, without the user picking
 * anything, which would sign straight back in. (The autofill has its own test.)
 */
async function signOut(page: Page): Promise<void> {
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
  await expect(new SignInPage(page).heading).toBeVisible();
  // The card asked for its autofill options and was refused; the button asks anew.
  await refused;
  await page.unroute(autofillOptions);
}

test('a passkey added in the profile signs in without an email', async ({ page }) => {
  const authenticator = await VirtualAuthenticator.attach(page);
  const user = await signUpViaApi(page.request);
  const dashboard = new Dashboard(page);
  const passkeys = new PasskeysPanel(page);
  await new ProfilePage(page).goto();
  await expect(passkeys.root).toContainText('No passkeys yet.');

  await addPasskey(page);
  await expect(passkeys.items.first()).toContainText('Passkey');
  await expect(passkeys.items.first()).toContainText('Last used never');
  const stored = await authenticator.credentials();
  expect(stored).toHaveLength(1);
  expect(stored[0].isResidentCredential).toBe(true);

  await page.goto('/');
  await signOut(page);
  const signIn = new SignInPage(page);
  await expect(signIn.email).toHaveValue('');
  await signIn.passkey.click();
  await expect(dashboard.userEmail).toHaveText(user.email);
  await new ProfilePage(page).goto();
  await expect(passkeys.items.first()).not.toContainText('Last used never');
  const me = await (await page.request.get('/me')).json();
  expect(me.session).toMatchObject({ status: 'active' });

  // Renamed with the keyboard: the field takes the focus, Enter saves.
  await passkeys.root.getByRole('button', { name: 'Rename Passkey' }).click();
  const name = passkeys.root.getByLabel('Passkey name');
  await expect(name).toBeFocused();
  await page.keyboard.press('Control+A');
  await page.keyboard.type('Laptop');
  await page.keyboard.press('Enter');
  await expect(passkeys.notice).toContainText('Renamed to “Laptop”.');
  await expect(passkeys.items.first()).toContainText('Laptop');
});

test('the Email field offers the passkey in its autofill, which signs in', async ({ page }) => {
  await VirtualAuthenticator.attach(page);
  const user = await signUpViaApi(page.request);
  const dashboard = new Dashboard(page);
  await new ProfilePage(page).goto();
  await addPasskey(page);
  await page.goto('/');
  await expect(dashboard.userEmail).toHaveText(user.email);

  // Signing out shows the card, whose Email field asks the browser for passkeys in its
  // autofill (conditional mediation); the virtual authenticator picks the only one at once.
  const signedIn = page.waitForResponse(
    (r) => new URL(r.url()).pathname === '/v1/passkeys/sign-in' && r.status() === 200,
  );
  await dashboard.signOut.click();
  await signedIn;
  await expect(dashboard.userEmail).toHaveText(user.email);
});

test('passkey-first sign-up: the emailed code, then a passkey instead of a password', async ({
  page,
}) => {
  const authenticator = await VirtualAuthenticator.attach(page);
  const email = uniqueEmail('passkey');
  const signIn = new SignInPage(page);
  const signUp = new SignUpPage(page);
  const dashboard = new Dashboard(page);

  await signIn.goto();
  await signIn.createAccount.click();
  await expect(signUp.heading).toBeVisible();
  await signUp.usePasskey.click();
  await expect(signUp.password).toBeHidden();
  await signUp.email.fill(email);
  await signUp.consent.check();
  await signUp.submit.click();
  // No passkey before the address is verified.
  await expect(signUp.code).toBeVisible();
  expect(await authenticator.credentials()).toHaveLength(0);
  await signUp.enterCode(await waitForCode(email));

  await expect(dashboard.userEmail).toHaveText(email);
  // The passkey is made right after the sign-in: wait for the server to have it before
  // leaving the page.
  await expect
    .poll(async () => ((await (await page.request.get('/v1/passkeys')).json()) as unknown[]).length)
    .toBe(1);
  expect(await authenticator.credentials()).toHaveLength(1);
  await new ProfilePage(page).goto();
  await expect(new PasskeysPanel(page).items).toHaveCount(1);

  // The account has no password; the passkey is its way in.
  const password = await page.request.post('/v1/sign-in/password', {
    headers: { origin: new URL(page.url()).origin },
    data: { email, password: 'correct horse battery staple' },
  });
  expect(password.status()).toBe(401);
  // And it cannot be removed while it is the only way in.
  await new PasskeysPanel(page).remove('Passkey').click();
  await expect(new PasskeysPanel(page).error).toContainText('only way to sign in');
  await expect(new PasskeysPanel(page).items).toHaveCount(1);

  await page.goto('/');
  await signOut(page);
  await signIn.passkey.click();
  await expect(dashboard.userEmail).toHaveText(email);
});

test('a passkey removed from the device: sign-in fails with a clear message', async ({ page }) => {
  const authenticator = await VirtualAuthenticator.attach(page);
  const user = await signUpViaApi(page.request);
  await new ProfilePage(page).goto();
  await addPasskey(page);
  await page.goto('/');
  await expect(new Dashboard(page).userEmail).toHaveText(user.email);
  await signOut(page);

  const [credential] = await authenticator.credentials();
  await authenticator.removeCredential(credential.credentialId);
  expect(await authenticator.credentials()).toHaveLength(0);

  const signIn = new SignInPage(page);
  await signIn.passkey.click();
  await expect(signIn.error).toContainText('No passkey was used');
  await expect(signIn.heading).toBeVisible();
  expect(await (await page.request.get('/me')).json()).toEqual({ user: null, session: null });
  // The password still works.
  await signIn.signIn(user.email, user.password);
  await expect(new Dashboard(page).userEmail).toHaveText(user.email);
});

test('a passkey deleted from the list no longer signs in', async ({ page }) => {
  const authenticator = await VirtualAuthenticator.attach(page);
  const user = await signUpViaApi(page.request);
  const passkeys = new PasskeysPanel(page);
  await new ProfilePage(page).goto();
  await addPasskey(page);

  await passkeys.remove('Passkey').click();
  await expect(passkeys.notice).toContainText('Removed');
  await expect(passkeys.items).toHaveCount(0);
  // The device still holds it; the server no longer knows it.
  expect(await authenticator.credentials()).toHaveLength(1);

  await page.goto('/');
  await expect(new Dashboard(page).userEmail).toHaveText(user.email);
  await signOut(page);
  const signIn = new SignInPage(page);
  await signIn.passkey.click();
  await expect(signIn.error).toContainText('not registered here');
  expect(await (await page.request.get('/me')).json()).toEqual({ user: null, session: null });
  await signIn.signIn(user.email, user.password);
  await expect(new Dashboard(page).userEmail).toHaveText(user.email);
});

test.describe('two server nodes on one database', () => {
  let nodeA: ToriiServer | undefined;
  let nodeB: ToriiServer | undefined;
  let database: TestDatabase | undefined;

  test.beforeAll(async ({}, testInfo) => {
    const project = testInfo.project.name;
    database = sharedDatabase('passkey-nodes', project);
    const [portA, portB] = [await freePort(), await freePort()];
    const origins = [`http://localhost:${portA}`, `http://localhost:${portB}`];
    // Both nodes accept both origins: the page lives on A, and B finishes its ceremonies.
    // The suite's config (with its OpenID provider), or the fixture it is made from.
    const base = process.env.TORII_E2E_CONFIG ?? path.join(e2eDir, 'fixtures', 'torii.toml');
    const config = fs
      .readFileSync(base, 'utf8')
      .replace('methods = [', `allowed_origins = ${JSON.stringify(origins)}\nmethods = [`);
    const tmpDir = process.env.TORII_E2E_TMPDIR ?? fs.mkdtempSync(path.join(e2eDir, 'tmp-'));
    const configFile = path.join(tmpDir, `${forProject('two-nodes', project)}.toml`);
    fs.writeFileSync(configFile, config);
    const smtpUrl = process.env.MAIL_SMTP_URL;
    for (const [name, port] of [
      ['passkeys-node-a', portA],
      ['passkeys-node-b', portB],
    ] as const) {
      const node = await startServer({
        name: forProject(name, project),
        databaseUrl: database.url,
        configFile,
        port,
        smtpUrl,
      });
      if (name === 'passkeys-node-a') nodeA = node;
      else nodeB = node;
    }
  });

  test.afterAll(async () => {
    await nodeA?.stop();
    await nodeB?.stop();
    database?.drop();
  });

  test('a registration and a sign-in started on one node finish on the other', async ({
    page,
  }) => {
    const a = nodeA as ToriiServer;
    const b = nodeB as ToriiServer;
    const authenticator = await VirtualAuthenticator.attach(page);
    // Every ceremony's second request goes to node B; the page and the first requests stay
    // on A.
    const forwarded: string[] = [];
    await page.route(
      (url) => url.pathname === '/v1/passkeys' || url.pathname === '/v1/passkeys/sign-in',
      async (route) => {
        if (route.request().method() !== 'POST') return route.continue();
        const url = new URL(route.request().url());
        forwarded.push(url.pathname);
        const response = await route.fetch({ url: `${b.url}${url.pathname}` });
        await route.fulfill({ response });
      },
    );

    const email = uniqueEmail('nodes');
    await signUpViaApi(page.request, email, 'correct horse battery staple', a.url);
    await page.goto(`${a.url}/profile`);
    await expect(new ProfilePage(page).account).toBeVisible();
    await addPasskey(page);
    expect(await authenticator.credentials()).toHaveLength(1);

    await page.goto(`${a.url}/`);
    const dashboard = new Dashboard(page);
    await expect(dashboard.userEmail).toHaveText(email);
    await signOut(page);
    await new SignInPage(page).passkey.click();
    await expect(dashboard.userEmail).toHaveText(email);
    expect(forwarded).toEqual(['/v1/passkeys', '/v1/passkeys/sign-in']);
    // Node B answered both, node A started both.
    const finishes = /method=POST path=\/v1\/passkeys(\/sign-in)?\}/g;
    const logB = fs.readFileSync(b.logFile, 'utf8');
    expect(logB.match(finishes)?.length ?? 0).toBeGreaterThanOrEqual(2);
    const logA = fs.readFileSync(a.logFile, 'utf8');
    expect(logA).toContain('path=/v1/passkeys/sign-in/options');
    expect(logA).toContain('path=/v1/passkeys/registration/options');
    expect(logA.match(finishes)).toBeNull();
  });
});
