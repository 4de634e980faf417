import { expect, type Locator, type Page } from '@playwright/test';

/** The `<SignIn>` card. */
export class SignInPage {
  readonly heading: Locator;
  readonly email: Locator;
  readonly password: Locator;
  readonly submit: Locator;
  readonly createAccount: Locator;
  /** Opens the password reset on the same card. */
  readonly forgotPassword: Locator;
  /** Emails a sign-in link to the address in the Email field (magic links enabled). */
  readonly emailLink: Locator;
  /** Signs in with a discoverable passkey, no email typed (passkeys enabled). */
  readonly passkey: Locator;
  /** An inline error (role="alert") with text in it. */
  readonly error: Locator;

  constructor(readonly page: Page) {
    this.heading = page.getByRole('heading', { name: 'Sign in', exact: true });
    this.email = page.getByLabel('Email', { exact: true });
    this.password = page.getByLabel('Password', { exact: true });
    this.submit = page.getByRole('button', { name: 'Sign in', exact: true });
    this.createAccount = page.getByRole('button', { name: 'Create an account' });
    this.forgotPassword = page.getByRole('button', { name: 'Forgot password?' });
    this.emailLink = page.getByRole('button', { name: 'Email me a sign-in link' });
    this.passkey = page.getByRole('button', { name: 'Sign in with a passkey' });
    this.error = page.getByRole('alert').filter({ hasText: /\S/ });
  }

  async goto(): Promise<void> {
    await this.page.goto('/');
    await expect(this.heading).toBeVisible();
  }

  async signIn(email: string, password: string): Promise<void> {
    await this.email.fill(email);
    await this.password.fill(password);
    await this.submit.click();
  }
}
