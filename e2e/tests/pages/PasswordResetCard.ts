import type { Locator, Page } from '@playwright/test';

/** The `<SignIn>` card after "Forgot password?": the email step, then the code step. */
export class PasswordResetCard {
  readonly heading: Locator;
  readonly email: Locator;
  readonly sendCode: Locator;
  /** "We sent a 6-digit code to <email> if an account exists for it." */
  readonly sentTo: Locator;
  readonly code: Locator;
  readonly newPassword: Locator;
  readonly submit: Locator;
  readonly backToSignIn: Locator;
  /** An inline error (role="alert") with text in it. */
  readonly error: Locator;

  constructor(readonly page: Page) {
    this.heading = page.getByRole('heading', { name: 'Reset your password' });
    this.email = page.getByLabel('Email', { exact: true });
    this.sendCode = page.getByRole('button', { name: 'Send code', exact: true });
    this.sentTo = page.getByText('We sent a 6-digit code to');
    this.code = page.getByLabel('Reset code');
    this.newPassword = page.getByLabel('New password');
    this.submit = page.getByRole('button', { name: 'Set new password' });
    this.backToSignIn = page.getByRole('button', { name: 'Back to sign in' });
    this.error = page.getByRole('alert').filter({ hasText: /\S/ });
  }

  async requestCode(email: string): Promise<void> {
    await this.email.fill(email);
    await this.sendCode.click();
  }

  async setPassword(code: string, password: string): Promise<void> {
    await this.code.fill(code);
    await this.newPassword.fill(password);
    await this.submit.click();
  }
}
