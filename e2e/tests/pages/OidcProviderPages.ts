import { expect, type Locator, type Page } from '@playwright/test';

/**
 * The suite's OpenID provider (fixtures/oidc-provider.mjs): its development login form and
 * consent page. A login containing `+unverified` is an account whose email it has not
 * verified.
 */
export class OidcProviderPages {
  readonly login: Locator;
  readonly password: Locator;
  readonly signInButton: Locator;
  readonly consentButton: Locator;

  constructor(readonly page: Page) {
    this.login = page.locator('input[name="login"]');
    this.password = page.locator('input[name="password"]');
    // The provider's own buttons (the app has a "Continue" button too).
    this.signInButton = page.locator('button.login-submit', { hasText: 'Sign-in' });
    this.consentButton = page.locator('button.login-submit', { hasText: 'Continue' });
  }

  /**
   * Signs in at the provider as `login` and consents, each only when the provider asks (it
   * remembers both), until `back` (something of the app's) shows.
   */
  async signIn(login: string, back: Locator): Promise<void> {
    for (let step = 0; step < 4; step += 1) {
      await expect(this.login.or(this.consentButton).or(back).first()).toBeVisible();
      if (await back.isVisible()) return;
      if (await this.login.isVisible()) {
        await this.login.fill(login);
        await this.password.fill('any password');
        await this.signInButton.click();
      } else {
        await this.consentButton.click();
      }
      await expect(this.signInButton.or(this.consentButton).first()).toBeHidden({
        timeout: 5_000,
      }).catch(() => undefined);
    }
    await expect(back).toBeVisible();
  }
}
