import type { Locator } from '@playwright/test';

/**
 * The re-authentication prompt `<UserProfile>` opens where a change needs a recent sign-in:
 * the password, "Use a passkey", "Continue with …" per linked provider, and Cancel.
 */
export class ReauthPrompt {
  readonly root: Locator;
  readonly password: Locator;
  readonly confirm: Locator;
  readonly usePasskey: Locator;
  /** For an account with a second factor: its code, and the switch to a backup code. */
  readonly code: Locator;
  readonly backupCode: Locator;
  readonly useBackupCode: Locator;
  readonly cancel: Locator;
  /** An inline error (role="alert") with text in it. */
  readonly error: Locator;

  /** The prompt inside `within` (a section of the profile). */
  constructor(within: Locator) {
    this.root = within.getByRole('group', { name: 'Confirm it is you' });
    this.password = this.root.getByLabel('Password', { exact: true });
    this.confirm = this.root.getByRole('button', { name: 'Confirm', exact: true });
    this.usePasskey = this.root.getByRole('button', { name: 'Use a passkey' });
    this.code = this.root.getByLabel('Authentication code');
    this.backupCode = this.root.getByLabel('Backup code');
    this.useBackupCode = this.root.getByRole('button', { name: 'Use a backup code instead' });
    this.cancel = this.root.getByRole('button', { name: 'Cancel' });
    this.error = this.root.getByRole('alert').filter({ hasText: /\S/ });
  }

  provider(name: string): Locator {
    return this.root.getByRole('button', { name: `Continue with ${name}` });
  }
}
