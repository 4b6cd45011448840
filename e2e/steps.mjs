// Steps shared by the E2E flows: filling inputs, the label board, and the Train screen.
import { byTestId, click, waitText } from './lib.mjs';

export const MODEL = 'model-option-sentence-transformers__all-MiniLM-L6-v2';
export const TRAIN_TIMEOUT = 15 * 60_000;

export async function setInput(browser, id, value) {
  const el = await byTestId(browser, id);
  await el.scrollIntoView({ block: 'center' });
  await el.clearValue();
  await el.setValue(String(value));
  // Svelte listens to input/change; make sure the value is committed.
  await browser.execute((e) => e.dispatchEvent(new Event('change', { bubbles: true })), el);
}

export async function moveRaw(browser, raws, target) {
  for (const raw of raws) await click(browser, `raw-card-${raw}`);
  await click(browser, `move-here-${target}`);
}

export async function renameClass(browser, from, to) {
  await click(browser, `rename-${from}`);
  // The input takes focus when it appears and commits on Enter; WebDriver's "clear"
  // would blur it (a commit), so select its text and type over it instead.
  await byTestId(browser, `rename-input-${from}`);
  await browser.keys(['Control', 'a']);
  await browser.keys([...to, 'Enter']);
  await byTestId(browser, `class-col-${to}`);
}

/** The Train screen with MiniLM on the CPU and `preset` applied. */
export async function trainSetup(browser, preset) {
  await click(browser, 'nav-train');
  await click(browser, MODEL);
  const device = await byTestId(browser, 'device-select');
  // Out from under the sticky Start bar, which would take the click.
  await device.scrollIntoView({ block: 'center' });
  await device.selectByAttribute('value', 'cpu');
  await click(browser, preset);
}

/** Wait for the run to end; it must finish. Returns the final accuracy text. */
export async function trainFinished(browser) {
  const status = await waitText(browser, 'train-status', (t) => /finished|failed|cancelled/i.test(t), TRAIN_TIMEOUT);
  if (!/finished/i.test(status)) {
    const err = await browser.$('[data-testid="train-error"]');
    throw new Error(`training ended "${status}": ${(await err.isExisting()) ? await err.getText() : ''}`);
  }
  const accuracy = await waitText(browser, 'final-accuracy', (t) => /\d/.test(t));
  await (await byTestId(browser, 'train-status')).scrollIntoView({ block: 'center' });
  return accuracy;
}

