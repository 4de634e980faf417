import type { Locator, Page } from '@playwright/test';

/** The passkeys list: `<Passkeys>`, which the demo shows in the profile's security section. */
export class PasskeysPanel {
  readonly root: Locator;
  readonly items: Locator;
  readonly add: Locator;
  /** An inline error (role="alert") with text in it. */
  readonly error: Locator;
  readonly notice: Locator;

  constructor(readonly page: Page) {
    this.root = page.getByRole('region', { name: 'Passkeys' });
    this.items = this.root.getByTestId('passkey');
    this.add = this.root.getByRole('button', { name: 'Add a passkey' });
    this.error = this.root.getByRole('alert').filter({ hasText: /\S/ });
    this.notice = this.root.getByRole('status').filter({ hasText: /\S/ });
  }

  remove(name: string): Locator {
    return this.root.getByRole('button', { name: `Remove ${name}`, exact: true });
  }
}
