import { expect, type Page, test } from '@playwright/test';
import { APP, screenshot, signIn } from './support/qubot';

test.use({ viewport: { width: 390, height: 844 } });

/** Nothing on the page is wider than the screen (tables scroll inside their own box). */
async function expectFits(page: Page) {
  const { width, wide } = await page.evaluate(() => {
    // The outermost elements that stick out past the screen (not inside a box that scrolls or
    // clips them), to name them when the check fails.
    const clipped = (el: HTMLElement) => {
      // An absolutely positioned element escapes a scrolling box that is not its containing block.
      if (getComputedStyle(el).position === 'absolute') return false;
      for (let p = el.parentElement; p; p = p.parentElement) {
        if (['auto', 'scroll', 'hidden', 'clip'].includes(getComputedStyle(p).overflowX)) return true;
      }
      return false;
    };
    const wide: string[] = [];
    for (const el of Array.from(document.querySelectorAll<HTMLElement>('body *'))) {
      if (el.getBoundingClientRect().right <= window.innerWidth + 1 || clipped(el)) continue;
      const parent = el.parentElement;
      if (parent && parent.getBoundingClientRect().right > window.innerWidth + 1) continue;
      wide.push(`${el.tagName.toLowerCase()}.${el.className} "${(el.textContent ?? '').slice(0, 40)}"`);
    }
    return { width: document.documentElement.scrollWidth, wide };
  });
  expect(width, `${page.url()} is wider than the screen: ${wide.slice(0, 8).join(', ')}`).toBeLessThanOrEqual(
    390,
  );
}

test('[MOBILE]: environment page fits 390 px', async ({ page }, testInfo) => {
  await signIn(page, 'admin');
  await page.goto(`/apps/${APP}/environments/production`);
  await expect(page.getByRole('heading', { level: 1 })).toBeVisible();
  await expect(page.getByRole('region', { name: 'Instances' })).toBeVisible();
  await expectFits(page);
  // The rollback action is on screen, not cut off.
  const rollback = page.getByRole('button', { name: /roll ?back/i }).first();
  await rollback.scrollIntoViewIfNeeded();
  const box = (await rollback.boundingBox())!;
  expect(box.x).toBeGreaterThanOrEqual(0);
  expect(box.x + box.width).toBeLessThanOrEqual(390);
  await page.evaluate(() => window.scrollTo(0, 0));
  await screenshot(page, testInfo, 'environment-390px');
});

test('[MOBILE]: every page fits 390 px', async ({ page }) => {
  await signIn(page, 'admin');
  for (const path of [
    '/',
    `/apps/${APP}/releases`,
    `/apps/${APP}/releases/1.0.0`,
    '/deployments',
    `/apps/${APP}/dora`,
    `/apps/${APP}/webhooks`,
    '/audit',
    '/settings',
  ]) {
    await page.goto(path);
    await expect(page.getByRole('heading', { level: 1 })).toBeVisible();
    await expect(page.getByText(/^Loading/)).toHaveCount(0);
    await expectFits(page);
  }
});

test('[CASE]: case-sensitive identifiers are shown as they are', async ({ page }) => {
  await signIn(page, 'admin');
  await page.goto(`/apps/${APP}/releases`);
  const cell = page.getByRole('rowheader', { name: '1.3.0-faulty' });
  await expect(cell).toBeVisible();
  expect(await cell.evaluate((el) => getComputedStyle(el).textTransform)).toBe('none');
  // innerText is the text as rendered, after CSS text-transform.
  // biome-ignore lint/performance/useDomNodeTextContent: the rendered case is what this checks
  expect(await cell.evaluate((el) => (el as HTMLElement).innerText)).toContain('1.3.0-faulty');
});
