// A trained run's model leaving Dialect from its page in Runs: exported as ONNX, served
// on loopback (and asked over HTTP from here), written as a transformers Trainer job,
// and that job's output imported back as a run. Each step reads what the app wrote or
// served and checks it against the run's own classes.
import { cpSync, existsSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { byTestId, click, waitText, shot, noErrorBanner } from './lib.mjs';

/** How long an export or the service's start may take on a loaded 2-core machine. */
const SLOW = 5 * 60_000;

const sameSet = (a, b) => JSON.stringify([...a].sort()) === JSON.stringify([...b].sort());
const readJson = (path) => JSON.parse(readFileSync(path, 'utf8'));

/** The file's size in bytes; fails naming the file when it is missing or empty. */
function nonEmpty(folder, file) {
  const path = join(folder, file);
  if (!existsSync(path)) throw new Error(`${file} was not written to ${folder} (it holds ${readdirSync(folder).join(', ')})`);
  const size = statSync(path).size;
  if (size === 0) throw new Error(`${path} is empty`);
  return size;
}

/** The export's folder as its notice names it: `<DIALECT_SAVE_DIR>/dialect-<id>-<kind>`. */
async function exportedFolder(browser, noticeId, runId, kind) {
  const expected = join(process.env.DIALECT_SAVE_DIR, `dialect-${runId}-${kind}`);
  const notice = await waitText(browser, noticeId, (t) => t.includes(`dialect-${runId}-${kind}`), SLOW);
  if (!notice.includes(expected)) throw new Error(`the notice names another folder than ${expected}: ${notice}`);
  return expected;
}

/** Export ONNX…: model.onnx, model.int8.onnx, the tokenizer, config.json and
 * dialect.json in `<DIALECT_SAVE_DIR>/dialect-<run>-onnx`, the card naming `classes`. */
export async function exportOnnx(browser, runId, classes, name) {
  await click(browser, 'export-onnx');
  const folder = await exportedFolder(browser, 'export-onnx-result', runId, 'onnx');
  const f32 = nonEmpty(folder, 'model.onnx');
  const int8 = nonEmpty(folder, 'model.int8.onnx');
  if (!(int8 < f32)) throw new Error(`model.int8.onnx (${int8} bytes) is not smaller than model.onnx (${f32} bytes)`);
  for (const file of ['tokenizer.json', 'config.json', 'dialect.json']) nonEmpty(folder, file);
  const card = readJson(join(folder, 'dialect.json'));
  if (!sameSet(card.labels ?? [], classes)) throw new Error(`dialect.json names ${JSON.stringify(card.labels)}, the run's classes are ${classes}`);
  await (await byTestId(browser, 'export-onnx-result')).scrollIntoView({ block: 'center' });
  await shot(browser, name);
  await noErrorBanner(browser);
  console.log(`e2e: ONNX export: model.onnx ${(f32 / 1e6).toFixed(1)} MB, model.int8.onnx ${(int8 / 1e6).toFixed(1)} MB, dialect.json names ${card.labels.join(', ')}`);
}

/** `fetch` that fails with the status and body when the answer is not 200. */
async function getJson(url, init) {
  const response = await fetch(url, init);
  const body = await response.text();
  if (response.status !== 200) throw new Error(`${init?.method ?? 'GET'} ${url}: ${response.status} ${body}`);
  return JSON.parse(body);
}

/** Check one prediction of the served model: every class scored once with a
 * probability in [0, 1]; one of `classes`, or for a label set the labels at or over
 * their thresholds, joined by "; " as its label. */
function checkPrediction(prediction, classes, text) {
  const scores = prediction.scores ?? [];
  const fine = sameSet(scores.map((s) => s.label), classes)
    && scores.every((s) => s.probability >= 0 && s.probability <= 1)
    && (prediction.labels
      ? sameSet(prediction.labels, scores.filter((s) => s.probability >= s.threshold).map((s) => s.label))
        && prediction.label === prediction.labels.join('; ')
      : classes.includes(prediction.label));
  if (!fine) throw new Error(`"${text}" was answered outside the run's classes ${classes}: ${JSON.stringify(prediction)}`);
}

/** A port free on 127.0.0.1 just now (the OS's pick, released at once). */
function freePort() {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });
}

/** Serve this model on a port typed into the panel: Start, then from here POST
 * /v1/classify with `texts`, GET /healthz and /v1/models at the URL the panel shows;
 * Stop, and the port no longer answers. */
export async function serveModel(browser, runId, classes, texts, names) {
  const port = await freePort();
  const portInput = await byTestId(browser, 'serve-port');
  await portInput.scrollIntoView({ block: 'center' });
  await portInput.setValue(String(port));
  await click(browser, 'serve-start');
  const url = (await waitText(browser, 'serve-url', (t) => /^http:\/\/127\.0\.0\.1:\d+$/.test(t.trim()), SLOW)).trim();
  if (url !== `http://127.0.0.1:${port}`) throw new Error(`asked to serve on port ${port}, the panel shows ${url}`);
  const answer = await getJson(`${url}/v1/classify`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ texts }),
  });
  if (answer.model !== runId || answer.predictions?.length !== texts.length) {
    throw new Error(`POST /v1/classify with ${texts.length} texts answered ${JSON.stringify(answer)}`);
  }
  answer.predictions.forEach((p, i) => checkPrediction(p, classes, texts[i]));
  const health = await getJson(`${url}/healthz`);
  if (health.status !== 'ok') throw new Error(`GET /healthz answered ${JSON.stringify(health)}`);
  const { models } = await getJson(`${url}/v1/models`);
  if (models?.length !== 1 || models[0].name !== runId || !sameSet(models[0].labels, classes)) {
    throw new Error(`GET /v1/models answered ${JSON.stringify(models)}, expected run ${runId} with ${classes}`);
  }
  await (await byTestId(browser, 'serve-panel')).scrollIntoView({ block: 'center' });
  await shot(browser, names.serving);
  for (const [i, p] of answer.predictions.entries()) {
    console.log(`e2e: served: "${texts[i]}" → ${p.label} (${p.confidence.toFixed(3)})`);
  }

  await click(browser, 'serve-stop');
  await waitText(browser, 'serve-status', (t) => /Not served/.test(t), 60_000);
  let refused = null;
  for (let i = 0; i < 40 && !refused; i++) {
    try {
      await fetch(`${url}/healthz`);
      await browser.pause(250);
    } catch (e) {
      if (e.cause?.code === 'ECONNREFUSED') refused = e.cause.code;
      else await browser.pause(250);
    }
  }
  if (!refused) throw new Error(`${url} still answers (or fails other than refused) 10 s after Stop`);
  await (await byTestId(browser, 'serve-panel')).scrollIntoView({ block: 'center' });
  await shot(browser, names.stopped);
  await noErrorBanner(browser);
  console.log(`e2e: served on ${url}: classify, healthz and models answered; after Stop the port refuses connections`);
}

/** The job's files as `dialect runs export --trainer-job` writes them. */
const JOB_FILES = [
  'train.py', 'job.json', 'rows.json', 'launch.sh', 'requirements.txt', 'README.md',
  'accelerate/single_gpu.yaml', 'accelerate/multi_gpu.yaml', 'accelerate/fsdp.yaml',
  'accelerate/deepspeed_zero2.yaml', 'accelerate/ds_zero2.json',
];

/** Export a Trainer job…: the job folder with train.py, the accelerate configs,
 * job.json (naming the run) and rows.json (the run's classes). Returns the folder. */
export async function exportTrainerJob(browser, runId, classes, name) {
  await click(browser, 'export-trainer-job');
  const folder = await exportedFolder(browser, 'export-trainer-job-result', runId, 'trainer');
  for (const file of JOB_FILES) nonEmpty(folder, file);
  const job = readJson(join(folder, 'job.json'));
  const rows = readJson(join(folder, 'rows.json'));
  if (job.sourceRun !== runId) throw new Error(`job.json names run ${job.sourceRun}, not ${runId}`);
  if (!sameSet(rows.labels, classes) || !rows.train?.length || !rows.validation?.length) {
    throw new Error(`rows.json lists classes ${JSON.stringify(rows.labels)}, ${rows.train?.length} training and ${rows.validation?.length} validation rows`);
  }
  await (await byTestId(browser, 'export-trainer-job-result')).scrollIntoView({ block: 'center' });
  await shot(browser, name);
  await noErrorBanner(browser);
  console.log(`e2e: Trainer job: ${JOB_FILES.length} files, ${rows.train.length} training and ${rows.validation.length} validation rows`);
  return folder;
}

/**
 * Write into `output` what the job's train.py writes when it ends, without running it
 * (no torch here): `model/` (the run's own model files standing in for the Trainer's)
 * and `dialect-import.json` with one evaluation whose predictions are right on every
 * other validation row and wrong on the rest. Returns the share right as a whole.
 */
function shapeTrainerOutput(job, model, output) {
  const spec = readJson(join(job, 'job.json'));
  const rows = readJson(join(job, 'rows.json'));
  mkdirSync(join(output, 'model'), { recursive: true });
  // The Trainer writes no dialect.json; the import makes its own card.
  for (const file of readdirSync(model).filter((f) => f !== 'dialect.json')) {
    if (statSync(join(model, file)).isFile()) cpSync(join(model, file), join(output, 'model', file));
  }
  const classes = rows.labels.length;
  const truth = rows.validation.map((row) => row[1]);
  // Wrong: one class the row does not have, alone.
  const wrong = (set) => [((set[0] ?? -1) + 1) % classes];
  const predicted = truth.map((set, i) => (i % 2 === 0 ? set : wrong(set)));
  writeFileSync(join(output, 'dialect-import.json'), JSON.stringify({
    source: spec.source,
    data: spec.data.path,
    baseModel: spec.recipe.model,
    labels: rows.labels,
    multiLabel: rows.multiLabel,
    truth,
    epochs: [{ epoch: 1, step: 10, trainLoss: 0.9, evalLoss: 0.8, seconds: 12.5, samplesPerSecond: 30, predicted }],
    bestEpoch: 1,
    steps: 10,
    // A quick check (`launch.sh --max-steps 10`): one evaluation, at its last step.
    maxSteps: 10,
    seconds: 14,
    device: 'cuda',
  }));
  return Math.ceil(truth.length / 2) / truth.length;
}

/** Runs → Import…: a Trainer job's output (shaped in `DIALECT_IMPORT_DIR`, which the
 * import dialog's stand-in answers) becomes a finished run scored by the engine, listed
 * in Runs beside `runId`. Returns the new run's id. */
export async function importTrainerOutput(browser, runId, job, names) {
  const model = join(process.env.DIALECT_HOME, 'runs', runId, 'model');
  const share = shapeTrainerOutput(job, model, process.env.DIALECT_IMPORT_DIR);
  await click(browser, 'runs-back');
  await click(browser, 'import-run');
  // The import opens the new run's page.
  const device = await waitText(browser, 'run-device', (t) => /imported/.test(t), SLOW);
  await shot(browser, names.imported);
  await click(browser, 'runs-back');
  const listed = () => browser.execute(() => [...document.querySelectorAll('[data-testid^="run-row-"]')]
    .map((e) => e.getAttribute('data-testid').replace('run-row-', '')));
  let ids = [];
  try {
    await browser.waitUntil(async () => (ids = await listed()).length === 2 && ids.includes(runId), { timeout: 30_000 });
  } catch {
    throw new Error(`Runs lists ${JSON.stringify(ids)}, expected ${runId} and the imported run`);
  }
  const imported = ids.find((id) => id !== runId);
  // Scored by the engine on the predictions written: whole sets right on every other row.
  const best = await (await byTestId(browser, `run-row-${imported}`)).getText();
  const shown = Number((best.match(/whole set ([\d.]+)%/) ?? best.match(/([\d.]+)% accuracy/) ?? [])[1]);
  if (!(Math.abs(shown - share * 100) < 0.06)) throw new Error(`the imported run shows "${best}", expected ${(share * 100).toFixed(1)}% right`);
  await shot(browser, names.listed);
  await noErrorBanner(browser);
  console.log(`e2e: imported the Trainer job's output as run ${imported} (${device.trim()}): ${shown}% right, as written`);
  return imported;
}
