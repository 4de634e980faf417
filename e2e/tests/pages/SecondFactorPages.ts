import type { Locator, Page } from '@playwright/test';

/** `<SecondFactor>`: the second sign-in step, in place of the sign-in card. */
export class SecondFactorStep {
  readonly root: Locator;
  readonly heading: Locator;
  readonly code: Locator;
  readonly backupCode: Locator;
  readonly verify: Locator;
  readonly useBackupCode: Locator;
  readonly passkey: Locator;
  readonly error: Locator;

  constructor(readonly page: Page) {
    this.root = page.locator('[data-torii-step="second-factor"]');
    this.heading = this.root.getByRole('heading', { name: 'Two-step verification' });
    this.code = this.root.getByLabel('Authentication code');
    this.backupCode = this.root.getByLabel('Backup code');
    this.verify = this.root.getByRole('button', { name: 'Verify' });
    this.useBackupCode = this.root.getByRole('button', { name: 'Use a backup code instead' });
    this.passkey = this.root.getByRole('button', { name: 'Use a passkey' });
    this.error = this.root.getByRole('alert').filter({ hasText: /\S/ });
  }
}

/** The enrolment steps, in `<SetupMfa>` or the profile's two-step section (`root`). */
export class EnrollSteps {
  readonly setUp: Locator;
  readonly secret: Locator;
  readonly qr: Locator;
  readonly code: Locator;
  readonly confirm: Locator;
  readonly backupCodes: Locator;

  constructor(readonly root: Locator) {
    this.setUp = root.getByRole('button', { name: 'Set up authenticator' });
    this.secret = root.getByTestId('totp-secret');
    this.qr = root.getByRole('img', { name: 'QR code for your authenticator app' });
    this.code = root.getByLabel('Authentication code');
    this.confirm = root.getByRole('button', { name: 'Confirm' });
    this.backupCodes = root.getByTestId('backup-codes').locator('li');
  }

  /** The backup codes on screen. */
  async codes(): Promise<string[]> {
    return (await this.backupCodes.allTextContents()).map((code) => code.trim());
  }
}

/** `<SetupMfa>`, the `setup_mfa` gate's screen. */
export class SetupMfaPage extends EnrollSteps {
  readonly heading: Locator;
  readonly continue: Locator;

  constructor(readonly page: Page) {
    super(page.locator('[data-torii-step="setup-mfa"]'));
    this.heading = page.getByRole('heading', { name: 'Set up two-step verification' });
    this.continue = this.root.getByRole('button', { name: 'Continue' });
  }
}

/** The "Two-step verification" section of `<UserProfile>`. */
export class TwoStepPanel extends EnrollSteps {
  readonly add: Locator;
  readonly remove: Locator;
  readonly regenerate: Locator;
  readonly left: Locator;
  readonly notice: Locator;

  constructor(readonly page: Page) {
    super(page.locator('[data-section="two-step"]'));
    this.add = this.root.getByRole('button', { name: 'Add an authenticator app' });
    this.remove = this.root.getByRole('button', { name: 'Remove' });
    this.regenerate = this.root.getByRole('button', { name: 'Create new backup codes' });
    this.left = this.root.getByTestId('backup-codes-left');
    this.notice = this.root.locator('.torii-notice');
  }
}
