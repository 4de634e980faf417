import { expect, type Locator, type Page } from '@playwright/test';

/** The `<UserButton>` in the demo's header: the avatar and its account menu. */
export class UserMenu {
  readonly trigger: Locator;
  readonly avatar: Locator;
  readonly menu: Locator;
  readonly manageAccount: Locator;
  readonly signOut: Locator;

  constructor(readonly page: Page) {
    this.trigger = page.getByRole('button', { name: /^Account menu for / });
    this.avatar = page.locator('.torii-avatar');
    this.menu = page.getByRole('menu', { name: 'Account' });
    this.manageAccount = this.menu.getByRole('menuitem', { name: 'Manage account' });
    this.signOut = this.menu.getByRole('menuitem', { name: 'Sign out' });
  }

  async open(): Promise<void> {
    await this.trigger.click();
    await expect(this.menu).toBeVisible();
  }

  async goToProfile(): Promise<void> {
    await this.open();
    await this.manageAccount.click();
  }

  async signOutHere(): Promise<void> {
    await this.open();
    await this.signOut.click();
  }
}
