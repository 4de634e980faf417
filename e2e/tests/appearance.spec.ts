// The provider's `appearance`, set from Rust (the demo's "Dark cards" preset): the dark
// theme, a variable, a class of the app's own on every card, a logo, and the provider buttons
// below the form. Checked through computed styles, in place and from the address.

import { expect, test, type Locator } from '@playwright/test';
import { expectNoSeriousViolations } from '../fixtures/axe';

const WHITE = 'rgb(255, 255, 255)';
// The dark theme's --torii-color-background (#111827) and --torii-color-text (#f3f4f6).
const DARK_BACKGROUND = 'rgb(17, 24, 39)';
const DARK_TEXT = 'rgb(243, 244, 246)';

function style(locator: Locator, property: string): Promise<string> {
  return locator.evaluate(
    (element, name) => getComputedStyle(element).getPropertyValue(name),
    property,
  );
}

test('the dark appearance applies its theme, variables, classes, logo and button placement; switching back restores the default, without a reload', async ({
  page,
}) => {
  await page.goto('/');
  const card = page.locator('section.torii-card');
  await expect(card).toBeVisible();
  await expect(page.locator('style[data-torii-appearance]')).toHaveCount(0);
  expect(await style(card, 'background-color')).toBe(WHITE);
  // The card's corners are 1.5 × --torii-radius (0.5rem by default); an input's are 1 ×.
  expect(await style(card, 'border-top-left-radius')).toBe('12px');
  await expect(card.locator('img.torii-logo')).toHaveCount(0);

  // In place: the same card, restyled.
  await page.evaluate(() => ((window as unknown as { marker: number }).marker = 1));
  await page.getByTestId('dark-appearance').click();
  await expect(card).toHaveClass(/\bdemo-card-dark\b/);
  await expect.poll(() => style(card, 'background-color')).toBe(DARK_BACKGROUND);
  expect(await style(card.locator('h2'), 'color')).toBe(DARK_TEXT);
  expect(await style(card, 'border-top-left-radius')).toBe('21px');
  expect(await style(card.locator('input').first(), 'border-top-left-radius')).toBe('14px');
  const logo = card.locator('img.torii-logo');
  await expect(logo).toHaveAttribute('alt', 'Torii demo');
  await expect(logo).toBeVisible();
  expect(await page.evaluate(() => (window as unknown as { marker?: number }).marker)).toBe(1);

  // The provider buttons follow the form's own buttons.
  const providers = card.locator('.torii-oauth');
  await expect(providers).toHaveCount(1);
  const submit = card.getByRole('button', { name: 'Sign in', exact: true });
  const providersAfterSubmit = await submit.evaluate((button) => {
    const group = button.closest('section')!.querySelector('.torii-oauth')!;
    return Boolean(button.compareDocumentPosition(group) & Node.DOCUMENT_POSITION_FOLLOWING);
  });
  expect(providersAfterSubmit).toBe(true);
  await expectNoSeriousViolations(page, 'dark sign-in');

  await page.getByTestId('dark-appearance').click();
  await expect.poll(() => style(card, 'background-color')).toBe(WHITE);
  await expect(card).not.toHaveClass(/\bdemo-card-dark\b/);
  await expect(card.locator('img.torii-logo')).toHaveCount(0);
});

test('the dark appearance from the address styles the sign-up card too, and stays accessible', async ({
  page,
}) => {
  await page.goto('/?appearance=dark#sign-up');
  const card = page.locator('section.torii-card');
  await expect(card.getByRole('heading', { level: 2 })).toBeVisible();
  await expect.poll(() => style(card, 'background-color')).toBe(DARK_BACKGROUND);
  await expect(card.locator('img.torii-logo')).toBeVisible();
  const order = await card.evaluate((section) => {
    const submit = section.querySelector('button[type=submit]')!;
    const group = section.querySelector('.torii-oauth')!;
    return Boolean(submit.compareDocumentPosition(group) & Node.DOCUMENT_POSITION_FOLLOWING);
  });
  expect(order).toBe(true);
  await expectNoSeriousViolations(page, 'dark sign-up');
});
