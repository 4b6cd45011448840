// Multi-label tickets in the real Dialect window: a file whose `tags` column holds one
// or two Banking77 intents per ticket (`a;b`, made by e2e/make_multi_label.py) is
// opened through "Choose file…", read as several labels per ticket, trained briefly on
// MiniLM, reviewed per label, and a ticket that is two things at once is typed into Try,
// which shows every label over its threshold. From Runs, the run is exported as ONNX,
// served over HTTP, written as a Trainer job whose (shaped) output is imported back.
// Screenshots go to docs/screenshots/.
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { SHOTS, openApp, byTestId, click, waitText, shot, noErrorBanner } from './lib.mjs';
import { setInput, trainSetup, trainFinished } from './steps.mjs';
import { exportOnnx, serveModel, exportTrainerJob, importTrainerOutput } from './run_outputs.mjs';

const INTENTS = ['card_arrival', 'exchange_rate', 'top_up_failed', 'pending_transfer'];

/** The text content of every element with `data-testid` = id, once one satisfies `test`
 * (read from the DOM, so the error can say what each copy showed). */
async function waitContent(browser, id, test, timeout) {
  let texts = [];
  try {
    await browser.waitUntil(async () => {
      texts = await browser.execute((tid) => [...document.querySelectorAll(`[data-testid="${tid}"]`)].map((e) => e.textContent.trim()), id);
      return texts.some(test);
    }, { timeout, interval: 500 });
  } catch {
    throw new Error(`[data-testid="${id}"] showed ${JSON.stringify(texts)} for ${timeout} ms`);
  }
  return texts.find(test);
}

const browser = await openApp();
try {
  await byTestId(browser, 'nav-data', 60_000);
  await click(browser, 'choose-file');
  await waitText(browser, 'profile-rows', (t) => t.replace(/[^\d]/g, '') === '480', 60_000);
  const form = await byTestId(browser, 'label-form');
  await form.scrollIntoView({ block: 'center' });
  await form.selectByAttribute('value', 'separated');
  const sniffed = await waitText(browser, 'label-separator-sniffed', (t) => t.includes(';'), 60_000);
  await shot(browser, '25-multi-label-data');
  console.log(`e2e: multi-label: ${sniffed.trim()}`);

  await click(browser, 'nav-labels');
  for (const intent of INTENTS) await byTestId(browser, `class-col-${intent}`, 60_000);
  await shot(browser, '26-multi-label-labels');
  await click(browser, 'labels-continue');
  await click(browser, 'nav-check');
  await shot(browser, '27-multi-label-check');
  await noErrorBanner(browser);

  await trainSetup(browser, 'preset-light');
  await setInput(browser, 'hp-epochs', 3);
  await setInput(browser, 'hp-max-rows', 480);
  await setInput(browser, 'hp-max-length', 64);
  await setInput(browser, 'hp-learning-rate', '1e-4');
  await click(browser, 'start-training');
  await waitText(browser, 'train-status', (t) => /running/i.test(t), 60_000);
  const microDuring = await waitContent(browser, 'tile-micro-f1', (t) => /\d/.test(t), 10 * 60_000);
  console.log(`e2e: multi-label: micro-F1 after the first evaluation ${microDuring.replace(/\s+/g, ' ')}`);
  const final = await trainFinished(browser);
  await shot(browser, '28-multi-label-train-finished');
  console.log(`e2e: multi-label: finished, ${final.replace(/\s+/g, ' ')}`);
  await noErrorBanner(browser);

  await click(browser, 'nav-review');
  const setMetrics = await waitText(browser, 'set-metrics', (t) => /micro/i.test(t), 120_000);
  const perLabel = await browser.$$('[data-testid="label-scores"] tbody tr');
  if (perLabel.length !== INTENTS.length) throw new Error(`Review lists ${perLabel.length} labels, expected ${INTENTS.length}`);
  await shot(browser, '29-multi-label-review');
  console.log(`e2e: multi-label review: ${setMetrics.replace(/\s+/g, ' ')}`);
  await noErrorBanner(browser);

  await click(browser, 'nav-try');
  const ticket = 'My new card still has not arrived. Also, what exchange rate will I get when I pay abroad?';
  await setInput(browser, 'try-input', ticket);
  await byTestId(browser, 'label-set', 60_000);
  await browser.waitUntil(async () => (await browser.$$('[data-testid="threshold-mark"]')).length === INTENTS.length,
    { timeout: 60_000, timeoutMsg: `Try did not mark a threshold on each of the ${INTENTS.length} labels` });
  const labels = await browser.execute(() => [...document.querySelectorAll('[data-testid^="label-chip-"]')]
    .map((e) => e.getAttribute('data-testid').replace('label-chip-', '')));
  if (labels.length === 0) throw new Error(`Try shows no label over its threshold for "${ticket}"`);
  if (labels.some((l) => !INTENTS.includes(l))) throw new Error(`Try shows unknown labels ${labels}`);
  await (await byTestId(browser, 'label-set')).scrollIntoView({ block: 'start' });
  await shot(browser, '30-multi-label-try');
  console.log(`e2e: multi-label Try: "${ticket}" → ${labels.join(' + ')}`);
  await noErrorBanner(browser);

  await click(browser, 'predict-file');
  const written = await waitText(browser, 'predict-file-result', (t) => /\d/.test(t), 5 * 60_000);
  await shot(browser, '31-multi-label-predict-file');
  const out = process.env.DIALECT_SAVE_FILE;
  if (!existsSync(out)) throw new Error('predict file: no output written');
  const header = readFileSync(out, 'utf8').split('\n')[0];
  const missing = ['predicted_labels', ...INTENTS.map((i) => `prob_${i}`)].filter((c) => !header.includes(c));
  if (missing.length) throw new Error(`the predictions file lacks ${missing.join(', ')}: header ${header}`);
  console.log(`e2e: multi-label predict file: ${written.replace(/\s+/g, ' ')}`);

  await click(browser, 'nav-runs');
  const row = await browser.$('[data-testid^="run-row-"]');
  const runId = (await row.getAttribute('data-testid')).replace('run-row-', '');
  const run = await row.$('button');
  await run.waitForClickable({ timeout: 30_000 });
  await run.click();
  await shot(browser, '32-multi-label-runs');
  await noErrorBanner(browser);

  // The run's model out of Dialect and back, from its page in Runs.
  await exportOnnx(browser, runId, INTENTS, '33-multi-label-export-onnx');
  await serveModel(browser, runId, INTENTS, [ticket, 'What exchange rate do you use when I pay in euros abroad?'],
    { serving: '34-multi-label-serving', stopped: '35-multi-label-serve-stopped' });
  const job = await exportTrainerJob(browser, runId, INTENTS, '36-multi-label-trainer-job');
  await importTrainerOutput(browser, runId, job, { imported: '37-multi-label-imported', listed: '38-multi-label-runs-imported' });
} catch (e) {
  await browser.saveScreenshot(join(SHOTS, 'failure-multi-label.png')).catch(() => {});
  const source = await browser.getPageSource().catch(() => '');
  console.error(`e2e: multi-label failed; page source starts: ${source.slice(0, 1500)}`);
  throw e;
} finally {
  await browser.deleteSession().catch(() => {});
}

// The trained run and the Trainer job's output imported from it record the label form.
const root = join(process.env.DIALECT_HOME, 'runs');
const records = readdirSync(root).map((id) => JSON.parse(readFileSync(join(root, id, 'run.json'), 'utf8')));
const multi = records.filter((r) => r.status === 'finished' && r.data.labelForm?.kind === 'separated');
if (multi.length !== 2) throw new Error(`expected 2 finished multi-label runs (trained, imported), found ${JSON.stringify(records.map((r) => [r.status, r.data.labelForm]))}`);
console.log('e2e: multi-label passed');
