import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { chromium, type Browser, type Locator, type Page } from 'playwright-core';
import { REPO_ROOT } from '../../config/env';

/** Debian's Chromium (installed by .ci/run), never a downloaded browser. */
export const CHROMIUM_PATH = '/usr/bin/chromium';

export async function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

/** Full-page screenshots, kept as test artifacts under test-results/<suite>/. */
export async function screenshotter(suite: string): Promise<{ dir: string; shoot(page: Page, name: string): Promise<string> }> {
  const dir = path.join(REPO_ROOT, 'test-results', suite);
  await mkdir(dir, { recursive: true });
  return {
    dir,
    async shoot(page, name) {
      const file = path.join(dir, `${name}.png`);
      await page.screenshot({ path: file, fullPage: true });
      return file;
    },
  };
}

/** Reloads until the page's main content matches, for state the workflow reaches on its own. */
export async function reloadUntil(page: Page, pattern: RegExp, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const text = await page.locator('main').innerText();
    if (pattern.test(text)) return;
    if (Date.now() > deadline) throw new Error(`${page.url()} never showed ${pattern}; last text:\n${text.slice(0, 2000)}`);
    await new Promise((resolve) => setTimeout(resolve, 300));
    await page.reload();
  }
}

/** Waits for the locator's first match to be visible. */
export async function visible(locator: Locator, timeoutMs = 20_000): Promise<void> {
  await locator.first().waitFor({ state: 'visible', timeout: timeoutMs });
}

/** Waits for the locator's first match to show text matching `pattern`. */
export async function hasText(locator: Locator, pattern: RegExp, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const text = await locator.first().innerText({ timeout: timeoutMs });
    if (pattern.test(text)) return;
    if (Date.now() > deadline) throw new Error(`expected ${pattern}, saw: ${text}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}
