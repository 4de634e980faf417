import type { Locator, Page } from '@playwright/test';

/** What the demo app shows inside `<SignedIn>`. */
export class Dashboard {
  readonly root: Locator;
  readonly userEmail: Locator;
  readonly signOut: Locator;

  constructor(readonly page: Page) {
    this.root = page.getByTestId('dashboard');
    this.userEmail = page.getByTestId('user-email');
    // The dashboard's own button (the header has a <SignOutButton> too).
    this.signOut = this.root.getByRole('button', { name: 'Sign out' });
  }
}
