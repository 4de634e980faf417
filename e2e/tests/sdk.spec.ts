// The component SDK's pieces in the demo: <Show when=signed_in> never renders protected UI for
// a session pending on a gate, a sign-in goes to its `after` destination once every gate is
// passed (and never to another origin), <SignOutButton> signs out and lands on its URL, and
// the sign-in card marks the method used last.

import { expect, test, type Page } from '@playwright/test';
import { requireUserGate, userIdByEmail } from '../fixtures/admin';
import { expectNoSeriousViolations } from '../fixtures/axe';
import { signUpViaApi } from '../fixtures/users';
import { Dashboard } from './pages/Dashboard';
import { AcceptTermsPage } from './pages/GatePages';
import { SdkPages } from './pages/SdkPages';
import { SignInPage } from './pages/SignInPage';

/** Matches a page URL whose path (without query or fragment) is exactly `pathname`. */
function at(pathname: string): RegExp {
  const escaped = pathname.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  return new RegExp(`^https?://[^/]+${escaped}$`);
}

/** What the demo renders only through `<Show when=Condition::signed_in()>`. */
const PROTECTED = ['[data-testid="dashboard"]', '[data-testid="profile"]', '.demo-header-sign-out'];

/**
 * Watches every page of this tab, from its first byte, for protected UI: on every DOM change
 * and every animation frame, any protected element present is recorded in sessionStorage
 * (which survives reloads), so a flash of one frame is caught, not only the final state.
 */
async function watchProtectedUi(page: Page): Promise<void> {
  await page.addInitScript((selectors: string[]) => {
    const record = () => {
      for (const selector of selectors) {
        if (document.querySelector(selector)) {
          const seen = JSON.parse(sessionStorage.getItem('protectedSeen') ?? '[]') as string[];
          if (!seen.includes(selector)) {
            seen.push(selector);
            sessionStorage.setItem('protectedSeen', JSON.stringify(seen));
          }
        }
      }
    };
    new MutationObserver(record).observe(document, { childList: true, subtree: true });
    const frame = () => {
      record();
      requestAnimationFrame(frame);
    };
    requestAnimationFrame(frame);
  }, PROTECTED);
}

async function protectedSeen(page: Page): Promise<string[]> {
  return page.evaluate(() => JSON.parse(sessionStorage.getItem('protectedSeen') ?? '[]'));
}

test('a session pending on a gate never renders protected UI; once it passes, the sign-in lands on ?after=', async ({
  page,
  request,
}) => {
  // A user signed up elsewhere (not in this page's cookie jar), with the Terms to accept.
  const user = await signUpViaApi(request);
  await requireUserGate(request, await userIdByEmail(request, user.email), 'legal_acceptance');
  await watchProtectedUi(page);
  const signIn = new SignInPage(page);
  const terms = new AcceptTermsPage(page);

  await page.goto('/?after=/profile');
  await expect(signIn.heading).toBeVisible();
  await signIn.signIn(user.email, user.password);

  await expect(terms.heading).toBeVisible();
  await expect(page).toHaveURL(at('/legal'));
  const me = await (await page.request.get('/me')).json();
  expect(me.session).toMatchObject({ status: 'pending', currentGate: { key: 'legal_acceptance' } });
  // A reload while pending renders the gate again, and still nothing protected.
  await page.reload();
  await expect(terms.heading).toBeVisible();
  expect(await protectedSeen(page)).toEqual([]);

  // The sign-in completes only now, and goes where it was asked to.
  await terms.accept.click();
  await expect(page.getByTestId('profile')).toBeVisible();
  await expect(page).toHaveURL(at('/profile'));
  // The watcher does see protected UI once it is allowed.
  expect(await protectedSeen(page)).toContain('[data-testid="profile"]');
});

test('after sign-in the card goes to a same-origin ?after= and ignores another origin', async ({
  page,
  request,
  baseURL,
}) => {
  const user = await signUpViaApi(request);
  const signIn = new SignInPage(page);
  const dashboard = new Dashboard(page);

  await page.goto('/?after=/profile');
  await signIn.signIn(user.email, user.password);
  await expect(page.getByTestId('profile')).toBeVisible();
  await expect(page).toHaveURL(at('/profile'));

  await page.getByRole('link', { name: 'Back to the dashboard' }).click();
  await dashboard.signOut.click();
  await expect(signIn.heading).toBeVisible();

  // An open redirect would send a fresh session to a look-alike site: not followed.
  await page.goto('/?after=https://example.com/');
  const refused = page.waitForEvent('console', (message) =>
    message.text().includes('https://example.com/` is not on this origin'),
  );
  await signIn.signIn(user.email, user.password);
  await expect(dashboard.userEmail).toHaveText(user.email);
  // The completed sign-in looked at the destination and refused it: the page stays.
  await refused;
  expect(new URL(page.url()).origin).toBe(new URL(baseURL ?? '').origin);
  expect(new URL(page.url()).pathname).toBe('/');
});

test('the header SignOutButton signs out and lands on its URL, which axe finds clean', async ({
  page,
}) => {
  const user = await signUpViaApi(page.request);
  const dashboard = new Dashboard(page);
  const sdk = new SdkPages(page);

  await page.goto('/');
  await expect(dashboard.userEmail).toHaveText(user.email);
  await sdk.headerSignOut.click();

  await expect(page).toHaveURL(at('/signed-out'));
  await expect(sdk.signedOutHeading).toBeVisible();
  await expect(dashboard.root).toBeHidden();
  await expect(sdk.headerSignOut).toBeHidden();
  expect(await (await page.request.get('/me')).json()).toEqual({ user: null, session: null });
  await expectNoSeriousViolations(page, 'signed-out');

  // The page's <SignInButton> goes back to the sign-in card.
  await sdk.signInAgain.click();
  await expect(new SignInPage(page).heading).toBeVisible();
  await expect(page).toHaveURL(at('/'));
});

test('the sign-in card marks the method used last, once signed out', async ({ page, request }) => {
  const user = await signUpViaApi(request);
  const signIn = new SignInPage(page);
  const dashboard = new Dashboard(page);
  const sdk = new SdkPages(page);

  await signIn.goto();
  await expect(sdk.lastUsed).toHaveCount(0);
  await signIn.signIn(user.email, user.password);
  await expect(dashboard.userEmail).toHaveText(user.email);

  await dashboard.signOut.click();
  await expect(signIn.heading).toBeVisible();
  await expect(sdk.lastUsed).toHaveCount(1);
  await expect(sdk.lastUsed).toHaveText('Last used');
  // Beside the password's "Sign in" button, and outside it (its name stays "Sign in").
  await expect(signIn.submit.locator('xpath=following-sibling::*[1]')).toHaveAttribute(
    'data-last-used',
    '',
  );
  const stored = await page.evaluate(() =>
    Object.entries(localStorage).filter(([key]) => key.startsWith('torii:last-method:')),
  );
  expect(stored.map(([, value]) => value)).toEqual(['password']);

  // The mark survives a reload and speaks the page's language.
  await page.goto('/?lang=fr');
  await expect(sdk.lastUsed).toHaveText('Utilisé la dernière fois');
});
