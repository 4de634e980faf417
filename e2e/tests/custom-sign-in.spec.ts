// An application's own sign-in form over `use_sign_in()` (the demo's /custom-sign-in): the
// same flow the built-in card draws, with none of its markup. It signs in with a password,
// and with the emailed reset code; the server's errors reach the app's own alert line.

import { expect, test } from '@playwright/test';
import { expectNoSeriousViolations } from '../fixtures/axe';
import { messagesFor, waitForCode } from '../fixtures/mail';
import { signUpViaApi } from '../fixtures/users';
import { Dashboard } from './pages/Dashboard';

test('a custom form over use_sign_in() signs in with a password; a wrong one shows the server error in its own alert', async ({
  page,
  request,
}) => {
  const user = await signUpViaApi(request);
  const dashboard = new Dashboard(page);
  await page.goto('/custom-sign-in');
  const form = page.getByTestId('custom-sign-in');
  await expect(form).toBeVisible();
  // No built-in card is drawn: the app's own markup only.
  await expect(page.locator('.torii-card')).toHaveCount(0);

  await page.getByTestId('custom-email').fill(user.email);
  await page.getByTestId('custom-password').fill('not the password at all');
  await page.getByTestId('custom-submit').click();
  await expect(page.getByTestId('custom-error')).toBeVisible();
  await expect(page.getByTestId('custom-error')).not.toBeEmpty();
  await expect(dashboard.root).toBeHidden();
  await expectNoSeriousViolations(page, 'custom sign-in');

  await page.getByTestId('custom-password').fill(user.password);
  await page.getByTestId('custom-submit').click();
  await expect(dashboard.userEmail).toHaveText(user.email);
  const me = await (await page.request.get('/me')).json();
  expect(me.session).toMatchObject({ status: 'active' });
});

test('a custom form over use_sign_in() signs in with the emailed code; a wrong code stays with its error', async ({
  page,
  request,
}) => {
  const user = await signUpViaApi(request);
  const dashboard = new Dashboard(page);
  await page.goto('/custom-sign-in');
  await page.getByTestId('custom-email').fill(user.email);
  await page.getByTestId('custom-forgot').click();
  // The address typed comes along to the next step.
  await expect(page.getByTestId('custom-email')).toHaveValue(user.email);
  const mailsBefore = (await messagesFor(user.email)).length;
  await page.getByTestId('custom-send-code').click();
  await expect(page.getByTestId('custom-code-sent')).toContainText(user.email);
  const code = await waitForCode(user.email, { after: mailsBefore });

  const wrong = code === '000000' ? '111111' : '000000';
  await page.getByTestId('custom-code').fill(wrong);
  await page.getByTestId('custom-new-password').fill('a brand new passphrase 42');
  await page.getByTestId('custom-reset').click();
  await expect(page.getByTestId('custom-error')).toBeVisible();
  await expect(dashboard.root).toBeHidden();

  // Typed with a space, as people do: the flow reads it as the server does.
  await page.getByTestId('custom-code').fill(`${code.slice(0, 3)} ${code.slice(3)}`);
  await page.getByTestId('custom-reset').click();
  await expect(dashboard.userEmail).toHaveText(user.email);
});
