// The server-rendered demo (e2e/ssr-app): first HTML already right for the session, no
// hydration warnings, sign-up/sign-in/sign-out, a gate reached through leptos_router, and a
// `#[server]` function that answers 401, then the user's data.

import { expect, test, type Page } from '@playwright/test';
import { requireUserGate, userIdByEmail } from '../../fixtures/admin';
import { waitForCode } from '../../fixtures/mail';
import { PASSWORD, signUpViaApi, uniqueEmail } from '../../fixtures/users';
import { AcceptTermsPage } from '../pages/GatePages';
import { SignInPage } from '../pages/SignInPage';
import { SignUpPage } from '../pages/SignUpPage';

/** Fails the test on any console error or warning (hydration mismatches are warnings). */
function watchConsole(page: Page): string[] {
  const problems: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error' || message.type() === 'warning') {
      problems.push(`${message.type()}: ${message.text()}`);
    }
  });
  page.on('pageerror', (err) => problems.push(`pageerror: ${err.message}`));
  return problems;
}

/** The page has hydrated: the wasm is running and event handlers are attached. */
async function hydrated(page: Page): Promise<void> {
  await page.waitForFunction(() => performance.getEntriesByType('resource').some((r) => r.name.endsWith('.wasm')));
  await page.waitForLoadState('networkidle');
}

test('the first HTML of a signed-in request already shows the user, and hydration asks no /me', async ({
  page,
}) => {
  const problems = watchConsole(page);
  const user = await signUpViaApi(page.request);

  // The raw server response, before any script runs.
  const raw = await page.request.get('/account');
  expect(raw.status()).toBe(200);
  const html = await raw.text();
  expect(html).toContain(user.email);
  expect(html).toContain('Your account');
  expect(html).not.toContain('Sign in</h2>');

  const meRequests: string[] = [];
  page.on('request', (request) => {
    if (new URL(request.url()).pathname === '/me') meRequests.push(request.url());
  });
  await page.goto('/account');
  await expect(page.getByTestId('account-email')).toHaveText(user.email);
  await hydrated(page);
  expect(meRequests, 'the page starts from the server state').toEqual([]);
  expect(problems).toEqual([]);
});

test('signed out, the first HTML shows the sign-in path and the server function answers 401', async ({
  page,
  request,
}) => {
  const problems = watchConsole(page);
  const raw = await request.get('/');
  expect(await raw.text()).toContain('You are signed out.');

  const refused = await request.post('/api/account_data', { form: {} });
  expect(refused.status()).toBe(401);

  // The protected page sends a signed-out visitor to the sign-in route, through the router.
  await page.goto('/account');
  await expect(new SignInPage(page).heading).toBeVisible();
  await expect(page).toHaveURL(/\/sign-in$/);
  await hydrated(page);
  expect(problems).toEqual([]);
});

test('sign-up with the emailed code, the protected data, sign-out, and sign-in again', async ({
  page,
}) => {
  const problems = watchConsole(page);
  const email = uniqueEmail('ssr');
  const signUp = new SignUpPage(page);
  await page.goto('/sign-up');
  await hydrated(page);
  await signUp.fillDetails(email, PASSWORD);
  await signUp.consent.check();
  await signUp.submit.click();
  await signUp.enterCode(await waitForCode(email));
  await expect(page.getByTestId('signed-in-as')).toContainText(email);

  // The protected server function, signed in: the user's data.
  await page.getByRole('link', { name: 'Go to your account' }).click();
  await expect(page.getByTestId('account-email')).toHaveText(email);
  await page.getByRole('button', { name: 'Load my data' }).click();
  await expect(page.getByTestId('account-data')).toHaveText(`Private data of ${email}`);
  const answered = await page.request.post('/api/account_data', { form: {} });
  expect(answered.status()).toBe(200);

  await page.getByRole('button', { name: 'Sign out' }).click();
  const signIn = new SignInPage(page);
  await expect(signIn.heading).toBeVisible();
  expect((await page.request.post('/api/account_data', { form: {} })).status()).toBe(401);

  await signIn.email.fill(email);
  await signIn.password.fill(PASSWORD);
  await signIn.submit.click();
  await expect(page.getByTestId('signed-in-as')).toContainText(email);
  expect(problems).toEqual([]);
});

test('a pending session renders the gate path on the server and the router takes it to the gate', async ({
  page,
  request,
}) => {
  const problems = watchConsole(page);
  const user = await signUpViaApi(page.request);
  await requireUserGate(request, await userIdByEmail(request, user.email), 'legal_acceptance');

  const html = await (await page.request.get('/account')).text();
  expect(html).not.toContain('Your account');

  await page.goto('/');
  await hydrated(page);
  // A marker on the window survives client-side navigation only.
  await page.evaluate(() => ((window as unknown as { marker: number }).marker = 1));
  await page.getByRole('link', { name: 'Account', exact: true }).click();
  const gate = new AcceptTermsPage(page);
  await expect(gate.accept).toBeVisible();
  await expect(page).toHaveURL(/\/legal$/);
  expect(await page.evaluate(() => (window as unknown as { marker?: number }).marker)).toBe(1);

  await gate.accept.click();
  await expect(page.getByTestId('signed-in-as')).toContainText(user.email);
  expect(problems).toEqual([]);
});
