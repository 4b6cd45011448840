// Helpers for driving the real Dialect window through tauri-driver.
import { remote } from 'webdriverio';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';

export const SHOTS = new URL('../docs/screenshots/', import.meta.url).pathname;

/** A WebDriver session on a fresh app window (tauri-driver on $DIALECT_DRIVER_PORT, default 4444). */
export async function openApp() {
  mkdirSync(SHOTS, { recursive: true });
  return remote({
    hostname: '127.0.0.1',
    port: Number(process.env.DIALECT_DRIVER_PORT ?? 4444),
    logLevel: 'warn',
    connectionRetryTimeout: 120_000,
    capabilities: {
      browserName: 'wry',
      'wdio:enforceWebDriverClassic': true,
      'tauri:options': { application: process.env.DIALECT_APP_BINARY },
    },
  });
}

/** The element with `data-testid` = id, once it is displayed. */
export async function byTestId(browser, id, timeout = 20_000) {
  const el = await browser.$(`[data-testid="${id}"]`);
  await el.waitForDisplayed({ timeout, timeoutMsg: `[data-testid="${id}"] not shown within ${timeout} ms` });
  return el;
}

/** Click the element once it is displayed and enabled (a button that is still
 * disabled, e.g. while its screen loads, would swallow the click). */
export async function click(browser, id, timeout = 20_000) {
  const el = await byTestId(browser, id, timeout);
  await el.waitForEnabled({ timeout, timeoutMsg: `[data-testid="${id}"] still disabled after ${timeout} ms` });
  await el.scrollIntoView({ block: 'center' });
  await el.click();
  return el;
}

/** Wait until the element's text satisfies `test`; returns the text. The element is
 * looked up on every poll (a screen may render it anew, e.g. once a run has started). */
export async function waitText(browser, id, test, timeout = 20_000) {
  await byTestId(browser, id, timeout);
  let last = '';
  try {
    await browser.waitUntil(async () => {
      const el = await browser.$(`[data-testid="${id}"]`);
      last = (await el.isExisting()) ? await el.getText() : '';
      return test(last);
    }, { timeout, interval: 250 });
  } catch {
    throw new Error(`[data-testid="${id}"] text stayed "${last}" for ${timeout} ms`);
  }
  return last;
}

export async function shot(browser, name) {
  await browser.pause(400); // let charts and transitions settle
  await browser.saveScreenshot(join(SHOTS, `${name}.png`));
  console.log(`e2e: screenshot ${name}.png`);
}

/** Fail fast with the error banner's text if the UI shows one. */
export async function noErrorBanner(browser) {
  const banner = await browser.$('[data-testid="error-banner"]');
  if (await banner.isExisting() && await banner.isDisplayed()) {
    throw new Error(`the app shows an error: ${await banner.getText()}`);
  }
}
