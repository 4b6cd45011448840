// The installer smoke test's window (scripts/install-smoke.sh): the installed app
// starts, shows the Data screen, and reads the sample bundled in the package, not the
// one in the source tree (DIALECT_EXPECT_SAMPLE is the path the package installed).
// With DIALECT_EXPECT_CUDA_NOTE (a CUDA-enabled package on a machine without the NVIDIA
// driver), the Train screen's device field must say why CUDA cannot be used.
import { openApp, byTestId, click, waitText, shot, noErrorBanner } from './lib.mjs';

const expected = process.env.DIALECT_EXPECT_SAMPLE;
if (!expected) throw new Error('DIALECT_EXPECT_SAMPLE is not set: run this through scripts/install-smoke.sh');

const cudaNote = process.env.DIALECT_EXPECT_CUDA_NOTE;

const browser = await openApp();
try {
  await byTestId(browser, 'nav-data', 60_000);
  await byTestId(browser, 'drop-zone');
  await click(browser, 'sample-data');
  await waitText(browser, 'profile-rows', (t) => t.replace(/[^\d]/g, '') === '10377', 60_000);
  const opened = await (await browser.$('[data-testid="drop-zone"] .path')).getAttribute('title');
  if (opened !== expected) throw new Error(`the app read the sample from ${opened}, not from the package's ${expected}`);
  await noErrorBanner(browser);
  await shot(browser, '00-installed-data');
  console.log(`e2e: the installed app reached the Data screen and read ${opened}`);
  if (cudaNote) {
    await click(browser, 'nav-train');
    const note = await waitText(browser, 'device-note-cuda', (t) => t.includes(cudaNote), 60_000);
    // Out from under the sticky Start bar. The installed (release) window repaints a
    // scroll only on the next input, so the pointer moves over the field too.
    const field = await byTestId(browser, 'device-note-cuda');
    await browser.execute((el) => el.scrollIntoView({ block: 'center' }), field);
    await field.moveTo();
    await shot(browser, '00-installed-train-device');
    console.log(`e2e: the installed app's device field says "${note.trim()}"`);
  }
} finally {
  await browser.deleteSession().catch(() => {});
}
