import { expect, type Locator, type Page } from '@playwright/test';

/**
 * The demo's `/profile` page: `<UserProfile>` with its account, security (password, passkeys,
 * linked accounts) and sessions.
 */
export class ProfilePage {
  readonly root: Locator;
  readonly account: Locator;
  readonly security: Locator;
  readonly sessions: Locator;
  readonly name: Locator;
  readonly saveName: Locator;
  readonly email: Locator;
  readonly changeEmail: Locator;
  readonly newEmail: Locator;
  readonly sendCode: Locator;
  readonly code: Locator;
  readonly verify: Locator;
  readonly currentPassword: Locator;
  readonly newPassword: Locator;
  readonly signOutOthersCheckbox: Locator;
  readonly changePassword: Locator;
  readonly sessionItems: Locator;
  readonly signOutAllOthers: Locator;
  readonly linkedAccounts: Locator;
  readonly linkedItems: Locator;

  constructor(readonly page: Page) {
    this.root = page.getByTestId('profile');
    this.account = page.getByRole('region', { name: 'Account', exact: true });
    this.security = page.getByRole('region', { name: 'Security', exact: true });
    this.sessions = page.getByRole('region', { name: 'Sessions', exact: true });
    this.name = this.account.getByLabel('Name', { exact: true });
    this.saveName = this.account.getByRole('button', { name: 'Save name' });
    this.email = page.getByTestId('profile-email');
    this.changeEmail = this.account.getByRole('button', { name: 'Change email' });
    this.newEmail = this.account.getByLabel('New email');
    this.sendCode = this.account.getByRole('button', { name: 'Send code' });
    this.code = this.account.getByLabel('Verification code');
    this.verify = this.account.getByRole('button', { name: 'Verify', exact: true });
    this.currentPassword = this.security.getByLabel('Current password');
    this.newPassword = this.security.getByLabel('New password');
    this.signOutOthersCheckbox = this.security.getByRole('checkbox', {
      name: 'Sign out of all other sessions',
    });
    this.changePassword = this.security.getByRole('button', { name: 'Change password' });
    this.linkedAccounts = this.security.getByRole('region', { name: 'Linked accounts' });
    this.linkedItems = this.linkedAccounts.getByRole('listitem');
    this.sessionItems = this.sessions.getByRole('listitem');
    this.signOutAllOthers = this.sessions.getByRole('button', {
      name: 'Sign out of all other sessions',
    });
  }

  /** "Link <provider>" in the linked accounts. */
  link(provider: string): Locator {
    return this.linkedAccounts.getByRole('button', { name: `Link ${provider}`, exact: true });
  }

  /** "Unlink" on the linked account of `provider` (`Unlink <provider> (<email>)`). */
  unlink(provider: string): Locator {
    return this.linkedAccounts.getByRole('button', { name: new RegExp(`^Unlink ${provider}`) });
  }

  async goto(): Promise<void> {
    await this.page.goto('/profile');
    await expect(this.account).toBeVisible();
  }

  /** A status line (success) of a section with this text. */
  status(section: Locator, text: string | RegExp): Locator {
    return section.getByRole('status').filter({ hasText: text });
  }

  /** The sessions list's entry that is not this device. */
  otherSession(): Locator {
    return this.sessionItems.filter({ hasNotText: 'This device' });
  }
}
