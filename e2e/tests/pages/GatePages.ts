import type { Locator, Page } from '@playwright/test';

/** `<AcceptTerms>` on the demo's `/legal` page. */
export class AcceptTermsPage {
  readonly heading: Locator;
  readonly termsLink: Locator;
  readonly privacyLink: Locator;
  readonly accept: Locator;
  /** An inline error (role="alert") with text in it. */
  readonly error: Locator;

  constructor(readonly page: Page) {
    this.heading = page.getByRole('heading', { name: 'Review our Terms' });
    this.termsLink = page.getByRole('link', { name: 'Terms of Service' });
    this.privacyLink = page.getByRole('link', { name: 'Privacy Policy' });
    this.accept = page.getByRole('button', { name: 'Accept and continue' });
    this.error = page.getByRole('alert').filter({ hasText: /\S/ });
  }
}

/** `<VerifyEmail>` on the demo's `/verify-email` page. */
export class VerifyEmailPage {
  readonly heading: Locator;
  readonly sendCode: Locator;
  readonly sentTo: Locator;
  readonly code: Locator;
  readonly verify: Locator;
  readonly resend: Locator;
  /** An inline error (role="alert") with text in it. */
  readonly error: Locator;

  constructor(readonly page: Page) {
    this.heading = page.getByRole('heading', { name: 'Verify your email' });
    this.sendCode = page.getByRole('button', { name: 'Send code', exact: true });
    this.sentTo = page.getByText('We sent a 6-digit code to');
    this.code = page.getByLabel('Verification code');
    this.verify = page.getByRole('button', { name: 'Verify', exact: true });
    this.resend = page.getByRole('button', { name: 'Resend code' });
    this.error = page.getByRole('alert').filter({ hasText: /\S/ });
  }

  async enterCode(code: string): Promise<void> {
    await this.code.fill(code);
    await this.verify.click();
  }
}

/** The demo's own page for the `mfa_enrollment` gate, at `/gates/mfa`. */
export class MfaGatePage {
  readonly root: Locator;
  readonly heading: Locator;
  readonly checkAgain: Locator;

  constructor(readonly page: Page) {
    this.root = page.getByTestId('gate-mfa');
    this.heading = page.getByRole('heading', { name: 'Waiting for your administrator' });
    this.checkAgain = page.getByRole('button', { name: 'Check again' });
  }
}

/** The demo's "One more step" panel, for a gate it has no page for. */
export class GatePendingPanel {
  readonly root: Locator;
  readonly gateKey: Locator;

  constructor(readonly page: Page) {
    this.root = page.getByTestId('gate-pending');
    this.gateKey = page.getByTestId('gate-key');
  }
}
