// Sign-in links ("magic links"): requested on the sign-in card, delivered through the real
// SMTP sink, and opened in the browser. The landing page only confirms by POST, so a mail
// scanner that fetches the link first burns nothing; a used or replaced link ends on the
// server's "used or expired" page, shown as soon as such a link is opened.

import { expect, test, type Response } from '@playwright/test';
import { at } from '../fixtures/browser';
import { messagesFor, waitForSignInLink } from '../fixtures/mail';
import { signUpViaApi } from '../fixtures/users';
import { Dashboard } from './pages/Dashboard';
import { CheckInboxCard, SignInLinkPages } from './pages/MagicLinkPages';
import { SignInPage } from './pages/SignInPage';

test('a link requested on the sign-in card survives a scanner and signs in with Continue', async ({
  page,
  playwright,
  request,
  baseURL,
}) => {
  // Signed up in a separate request context: the page itself is signed out.
  const user = await signUpViaApi(request);
  const mailsBefore = (await messagesFor(user.email)).length;
  const signIn = new SignInPage(page);
  const inbox = new CheckInboxCard(page);
  const linkPages = new SignInLinkPages(page);
  const dashboard = new Dashboard(page);

  await signIn.goto();
  await signIn.email.fill(user.email);
  await signIn.emailLink.click();
  await expect(inbox.heading).toBeVisible();
  await expect(inbox.sentTo).toContainText(user.email);

  const link = await waitForSignInLink(user.email, { after: mailsBefore });
  expect(link.startsWith(`${baseURL}/v1/magic-links/verify?`), link).toBe(true);

  // A mail scanner fetches the link: no cookies, no JavaScript, no click.
  const scanner = await playwright.request.newContext();
  try {
    const scanned = await scanner.get(link);
    expect(scanned.status()).toBe(200);
    expect(scanned.headers()['referrer-policy']).toBe('no-referrer');
    expect(scanned.headers()['cache-control']).toBe('no-store');
    expect(await scanned.text()).toContain('Continue');
  } finally {
    await scanner.dispose();
  }

  // The person opens it: the link still works.
  await page.goto(link);
  await linkPages.continue.click();
  await expect(dashboard.userEmail).toHaveText(user.email);
  await expect(page).toHaveURL(at('/'));
  const me = await (await page.request.get('/me')).json();
  expect(me.user).toMatchObject({ email: user.email });
  expect(me.session).toMatchObject({ status: 'active', kind: 'database' });
});

test('a used link, and one replaced by "Resend link", end on the "used or expired" page', async ({
  page,
  request,
}) => {
  const user = await signUpViaApi(request);
  const mailsBefore = (await messagesFor(user.email)).length;
  const signIn = new SignInPage(page);
  const inbox = new CheckInboxCard(page);
  const linkPages = new SignInLinkPages(page);
  const dashboard = new Dashboard(page);
  /** Opens `link` and clicks Continue; the answer to the click. */
  const openAndContinue = async (link: string): Promise<Response> => {
    await page.goto(link);
    const answer = page.waitForResponse(
      (response) =>
        new URL(response.url()).pathname === '/v1/magic-links/verify' &&
        response.request().method() === 'POST',
    );
    await linkPages.continue.click();
    return answer;
  };

  await signIn.goto();
  await signIn.email.fill(user.email);
  await signIn.emailLink.click();
  await expect(inbox.heading).toBeVisible();
  const first = await waitForSignInLink(user.email, { after: mailsBefore });

  await inbox.resend.click();
  await expect(inbox.resent).toBeVisible();
  const second = await waitForSignInLink(user.email, { after: mailsBefore + 1 });
  expect(second).not.toBe(first);

  // "Back" returns to the sign-in card with the address still there.
  await inbox.back.click();
  await expect(signIn.heading).toBeVisible();
  await expect(signIn.email).toHaveValue(user.email);

  /** Opens a link that can no longer sign in: the "used or expired" page, no Continue. */
  const openDead = async (link: string): Promise<void> => {
    const answer = await page.goto(link);
    expect(answer?.status()).toBe(410);
    await expect(linkPages.usedOrExpired).toBeVisible();
    await expect(page.locator('body')).toContainText('used or expired');
    await expect(linkPages.continue).toHaveCount(0);
  };

  // The replaced link signs nobody in.
  await openDead(first);
  expect(await (await page.request.get('/me')).json()).toEqual({ user: null, session: null });

  // The newest one does, once.
  const used = await openAndContinue(second);
  expect(used.status()).toBe(303);
  await expect(dashboard.userEmail).toHaveText(user.email);

  // Opening it again: the "used or expired" page straight away.
  await openDead(second);
  await expect(dashboard.root).toBeHidden();
});
