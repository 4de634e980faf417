import type { Locator, Page } from '@playwright/test';

/** The `<SignIn>` card after "Email me a sign-in link": its "Check your inbox" step. */
export class CheckInboxCard {
  readonly heading: Locator;
  /** "We sent a sign-in link to <email> if an account exists for it." */
  readonly sentTo: Locator;
  readonly resend: Locator;
  readonly back: Locator;
  /** The announcement that a new link went out. */
  readonly resent: Locator;

  constructor(readonly page: Page) {
    this.heading = page.getByRole('heading', { name: 'Check your inbox' });
    this.sentTo = page.getByText('We sent a sign-in link to');
    this.resend = page.getByRole('button', { name: 'Resend link' });
    this.back = page.getByRole('button', { name: 'Back', exact: true });
    this.resent = page.getByRole('status').filter({ hasText: 'new link' });
  }
}

/** The server's pages behind an emailed link: the landing page with its Continue button,
 *  and the page a used, replaced or expired link ends on. */
export class SignInLinkPages {
  readonly continue: Locator;
  readonly usedOrExpired: Locator;

  constructor(readonly page: Page) {
    this.continue = page.getByRole('button', { name: 'Continue' });
    this.usedOrExpired = page.getByRole('heading', { name: 'Link used or expired' });
  }
}
