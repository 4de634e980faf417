import type { Locator, Page } from '@playwright/test';

/** The demo's header controls and its `/signed-out` page (`<SignOutButton>` lands there). */
export class SdkPages {
  /** The header's `<SignOutButton>`. */
  readonly headerSignOut: Locator;
  readonly signedOut: Locator;
  readonly signedOutHeading: Locator;
  /** `<SignInButton>` on the signed-out page, with its own label. */
  readonly signInAgain: Locator;
  /** The sign-in card's "Last used" badges. */
  readonly lastUsed: Locator;

  constructor(readonly page: Page) {
    this.headerSignOut = page.locator('header').getByRole('button', { name: 'Sign out' });
    this.signedOut = page.getByTestId('signed-out');
    this.signedOutHeading = page.getByRole('heading', { name: 'You are signed out' });
    this.signInAgain = page.getByRole('button', { name: 'Sign in again' });
    this.lastUsed = page.locator('[data-last-used]');
  }
}
