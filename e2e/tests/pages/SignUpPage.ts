import { expect, type Locator, type Page } from '@playwright/test';

/** The `<SignUp>` card: its details step, then its verification-code step. */
export class SignUpPage {
  readonly heading: Locator;
  readonly email: Locator;
  readonly password: Locator;
  readonly name: Locator;
  readonly consent: Locator;
  readonly submit: Locator;
  /** Switches the details step to "a passkey instead of a password". */
  readonly usePasskey: Locator;
  readonly code: Locator;
  readonly verify: Locator;
  readonly resend: Locator;
  /** An inline error (role="alert") with text in it. */
  readonly error: Locator;

  constructor(readonly page: Page) {
    this.heading = page.getByRole('heading', { name: 'Create your account' });
    this.email = page.getByLabel('Email', { exact: true });
    this.password = page.getByLabel('Password', { exact: true });
    this.name = page.getByLabel('Name (optional)');
    this.consent = page.getByRole('checkbox', {
      name: 'I agree to the Terms of Service and Privacy Policy',
    });
    this.submit = page.getByRole('button', { name: 'Create account', exact: true });
    this.usePasskey = page.getByRole('button', { name: 'Use a passkey instead of a password' });
    this.code = page.getByLabel('Verification code');
    this.verify = page.getByRole('button', { name: 'Verify', exact: true });
    this.resend = page.getByRole('button', { name: 'Resend code' });
    this.error = page.getByRole('alert').filter({ hasText: /\S/ });
  }

  async fillDetails(email: string, password: string, name?: string): Promise<void> {
    await expect(this.heading).toBeVisible();
    await this.email.fill(email);
    await this.password.fill(password);
    if (name !== undefined) await this.name.fill(name);
  }

  async enterCode(code: string): Promise<void> {
    await this.code.fill(code);
    await this.verify.click();
  }
}
