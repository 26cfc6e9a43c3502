// Every test signs up with the same address and subject: only its own inbox tells its mail apart.
import { test, expect } from 'mailpen/playwright';

test.beforeEach(async ({ page, inbox }) => {
  // How this app learns which SMTP settings to send with (see server.mjs).
  await page.setExtraHTTPHeaders({ 'x-test-smtp': inbox.smtp.url });
});

for (const name of ['Ann', 'Bob', 'Carol', 'Dan', 'Eve', 'Fay']) {
  test(`${name} signs up and follows the link in their own mail`, async ({ page, inbox }) => {
    await page.goto('/');
    await page.getByLabel('Name').fill(name);
    await page.getByLabel('Email').fill('same@example.test');
    await page.getByRole('button', { name: 'Sign up' }).click();
    await expect(page.getByRole('heading', { name: 'Check your inbox' })).toBeVisible();

    const mail = await inbox.waitFor({ subject: 'Confirm your account' });
    expect(mail.to).toEqual([{ name, address: 'same@example.test' }]);
    const link = mail.links.find((l) => l.includes('/confirm?token='));
    expect(link).toBeDefined();
    await page.goto(link!);
    await expect(page.getByRole('heading', { name: `Welcome, ${name}!` })).toBeVisible();
  });
}

test('types the confirmation code from the mail', async ({ page, inbox }) => {
  await page.goto('/');
  await page.getByLabel('Name').fill('Gil');
  await page.getByLabel('Email').fill('same@example.test');
  await page.getByRole('button', { name: 'Sign up' }).click();

  const code = await inbox.waitForCode({ subject: 'Confirm your account' });
  expect(code).toMatch(/^\d{6}$/);
  await page.getByLabel('Confirmation code').fill(code);
  await page.getByRole('button', { name: 'Confirm' }).click();
  await expect(page.getByRole('heading', { name: 'Welcome, Gil!' })).toBeVisible();
});
