// The app's state: which step is shown, the data file and its inspection, the label
// board, the training form, the live training session and the list of past runs.

import * as api from './api';
import type {
  AppInfo,
  BestMetric,
  Checks,
  DeviceCheck,
  DeviceChoice,
  DeviceInfo,
  Inspection,
  LabelMap,
  Limits,
  Method,
  ModelStatus,
  Precision,
  RunRecord,
  SampleData,
  TrainConfig,
  TrainEvent,
} from './api';
import { LabelBoard } from './labelBoard.svelte';
import { notify } from './notify.svelte';
import { TrainSession } from './trainSession.svelte';

export type Step = 'data' | 'labels' | 'check' | 'train' | 'evaluate' | 'try' | 'runs';

export const STEPS: { id: Exclude<Step, 'runs'>; title: string; hint: string }[] = [
  { id: 'data', title: 'Data', hint: 'Load a file of tickets' },
  { id: 'labels', title: 'Labels', hint: 'Map raw labels to classes' },
  { id: 'check', title: 'Check', hint: 'Data quality report' },
  { id: 'train', title: 'Train', hint: 'Fine-tune a model' },
  { id: 'evaluate', title: 'Evaluate', hint: 'Scores and confusions' },
  { id: 'try', title: 'Try', hint: 'Classify tickets by hand' },
];

export interface Hyper {
  method: Method;
  epochs: number;
  batchSize: number;
  learningRate: number;
  weightDecay: number;
  warmupSteps: number;
  maxLength: number;
  seed: number;
  bestMetric: BestMetric;
  earlyStoppingPatience: number | null;
  validationFraction: number;
  maxRows: number | null;
  /** Batch tickets of similar length together (opt-in: batches then mix classes less). */
  groupByLength: boolean;
}

/** The classic Trainer recipe's defaults (src/train/config.rs). */
export const RECIPE: Hyper = {
  method: 'fineTune',
  epochs: 3,
  batchSize: 16,
  learningRate: 2e-5,
  weightDecay: 0.01,
  warmupSteps: 0,
  maxLength: 128,
  seed: 42,
  bestMetric: 'accuracy',
  earlyStoppingPatience: null,
  validationFraction: 0.1,
  maxRows: null,
  groupByLength: false,
};

export type PresetName = 'quick' | 'light' | 'balanced' | 'thorough';

export const HYPER_PRESETS: Record<PresetName, { title: string; blurb: string; values: Hyper }> = {
  quick: {
    title: 'Quick',
    blurb:
      'Instant baseline: the frozen encoder reads each ticket once and a linear classifier is fitted on its ' +
      'features. Seconds to a couple of minutes: a first accuracy before a full fine-tune',
    values: { ...RECIPE, method: 'baseline', epochs: 1 },
  },
  light: {
    title: 'Light',
    blurb: 'A short fine-tune: 1 epoch on up to 2,000 rows, in minutes',
    values: { ...RECIPE, epochs: 1, maxLength: 64, maxRows: 2000, learningRate: 5e-5 },
  },
  balanced: {
    title: 'Balanced',
    blurb: 'The classic recipe: 3 epochs, all rows',
    values: { ...RECIPE },
  },
  thorough: {
    title: 'Thorough',
    blurb: '5 epochs, longer texts, stops early when it stops improving',
    values: { ...RECIPE, epochs: 5, earlyStoppingPatience: 2, maxLength: 256 },
  },
};

export const DEFAULT_MODEL = 'distilbert-base-uncased';
export const PRESET_MODELS = [
  'distilbert-base-uncased',
  'bert-base-uncased',
  'sentence-transformers/all-MiniLM-L6-v2',
];

export type ModelMode = 'preset' | 'hub' | 'folder';

export interface DownloadState {
  model: string;
  file: string;
  index: number;
  files: number;
  done: number;
  total: number;
  finished: boolean;
}

function mapKey(map: LabelMap | null): string {
  if (!map) return 'null';
  const keys = Object.keys(map.mapping).sort();
  return JSON.stringify([keys.map((k) => [k, map.mapping[k]]), map.unmapped]);
}

/** What an inspection depends on besides the file and columns: the map and the checks. */
function inspectKey(map: LabelMap | null, checks: Checks): string {
  return JSON.stringify([mapKey(map), checks]);
}

export class AppState {
  step = $state<Step>('data');
  info = $state<AppInfo | null>(null);

  // ---- data
  path = $state<string | null>(null);
  sample = $state<SampleData | null>(null);
  inspection = $state.raw<Inspection | null>(null);
  inspecting = $state(false);
  textColumns = $state<string[]>([]);
  labelColumn = $state<string | null>(null);
  board = $state.raw<LabelBoard | null>(null);
  /** The path and label column the board was built for. */
  private boardKey = '';
  /** The label map the current inspection was made with. */
  inspectedMap = $state('null');
  /** The label map and checks the current inspection was made with. */
  private inspectedKey = '';
  override = $state(false);
  private inspectSeq = 0;

  // ---- training form
  modelMode = $state<ModelMode>('preset');
  presetModel = $state(DEFAULT_MODEL);
  hubModel = $state('');
  folderModel = $state('');
  models = $state<Record<string, ModelStatus>>({});
  modelsLoaded = $state(false);
  devices = $state<DeviceInfo[]>([]);
  device = $state<DeviceChoice>('auto');
  precision = $state<Precision>('auto');
  /** Replace a base classifier's head that does not fit the classes (else refused). */
  newHead = $state(false);
  /** The last device self-test: the choice it ran for, and its checks (null while it runs). */
  deviceTest = $state<{ choice: DeviceChoice; checks: DeviceCheck[] | null } | null>(null);
  hyper = $state<Hyper>({ ...RECIPE });
  /** The engine's bounds of the numeric settings (null until loaded). */
  limits = $state<Limits | null>(null);
  preset = $state<PresetName | null>('balanced');
  download = $state<DownloadState | null>(null);

  // ---- training and runs
  session = new TrainSession();
  runs = $state<RunRecord[]>([]);
  runsLoaded = $state(false);
  /** The run Evaluate and Try work on. */
  currentRunId = $state<string | null>(null);
  /** The run opened on the Runs page. */
  openRunId = $state<string | null>(null);
  /** Evaluations of ended runs (their models no longer change). */
  evaluations = new Map<string, api.Evaluation>();

  // ------------------------------------------------------------ derived

  /** The label map training and inspection use (null = none: raw labels as they are). */
  get labelMap(): LabelMap | null {
    return this.board && this.boardKey === this.currentBoardKey ? this.board.engineMap : null;
  }

  private get currentBoardKey(): string {
    return `${this.path}\u0000${this.labelColumn}`;
  }

  get blocking(): boolean {
    return !!this.inspection?.report?.findings.some((f) => f.severity === 'blocking');
  }

  get model(): string {
    if (this.modelMode === 'hub') return this.hubModel.trim();
    if (this.modelMode === 'folder') return this.folderModel.trim();
    return this.presetModel;
  }

  get modelStatus(): ModelStatus | null {
    return this.models[this.model] ?? null;
  }

  /** Why bf16 cannot be chosen on the selected device (for auto: on any available one), or null. */
  get bf16Unavailable(): string | null {
    const auto = this.device === 'auto';
    const candidates = this.devices.filter((d) => (auto ? d.available : d.choice === this.device));
    if (candidates.some((d) => d.bf16)) return null;
    const which = auto ? 'none is available here' : `${this.device.toUpperCase()} here is not one`;
    return `bf16 needs an NVIDIA GPU of compute capability 8.0 or newer (Ampere, Hopper, …): ${which}.`;
  }

  /** Why training cannot start yet, or null. */
  get trainBlocker(): string | null {
    if (!this.path) return 'Load a data file first (Data step).';
    if (!this.textColumns.length) return 'Pick at least one text column (Data step).';
    if (!this.labelColumn) return 'Pick the label column (Data step).';
    if (!this.model) return 'Choose a model.';
    if (this.precision === 'bf16' && this.bf16Unavailable) return `${this.bf16Unavailable} Choose Auto or f32 precision.`;
    if (this.blocking && !this.override)
      return 'The data check found blocking problems: fix them, or tick “Train anyway” on the Check step.';
    if (this.session.active) return 'A training run is in progress.';
    return null;
  }

  get currentRun(): RunRecord | null {
    return this.runs.find((r) => r.id === this.currentRunId) ?? null;
  }

  /** Runs that have a model to evaluate or try. */
  get usableRuns(): RunRecord[] {
    return this.runs.filter((r) => r.status === 'finished' || r.status === 'cancelled' || (r.summary && r.best));
  }

  // ------------------------------------------------------------ lifecycle

  /** On app load: version, runs, and a training job that may be running. */
  async init(): Promise<void> {
    api
      .appInfo()
      .then((i) => (this.info = i))
      .catch((e) => notify.error(e, 'Could not read app info'));
    // Without them the form keeps its own bounds; the engine checks the settings anyway.
    api
      .trainLimits()
      .then((l) => (this.limits = l))
      .catch(() => (this.limits = null));
    await this.refreshRuns();
    await this.attach();
  }

  async refreshRuns(): Promise<void> {
    try {
      this.runs = await api.listRuns();
      this.runsLoaded = true;
      if (!this.currentRunId) {
        const first = this.usableRuns[0];
        if (first) this.currentRunId = first.id;
      }
    } catch (e) {
      notify.error(e, 'Could not list past runs');
    }
  }

  /** Re-attach to a running (or just finished) training job, replaying its events. */
  async attach(): Promise<void> {
    const live: TrainEvent[] = [];
    let replayed = false;
    const session = this.session;
    try {
      const res = await api.attachTraining((e) => {
        if (replayed) {
          session.handle(e);
          if (session.done) void this.onTrainingEnded();
        } else live.push(e);
      });
      if (!res) {
        replayed = true;
        return;
      }
      session.reset('running', this.runs.find((r) => r.id === res.runId)?.config.method);
      session.runId = res.runId;
      session.replay(res.events);
      for (const e of live) session.handle(e);
      replayed = true;
      this.currentRunId = res.runId;
      if (res.running && !session.done) this.step = 'train';
    } catch (e) {
      replayed = true;
      notify.error(e, 'Could not re-attach to training');
    }
  }

  // ------------------------------------------------------------ data

  async chooseFile(): Promise<void> {
    try {
      const path = await api.pickDataFile();
      if (path) await this.loadPath(path);
    } catch (e) {
      notify.error(e, 'Could not open the file');
    }
  }

  async useSample(): Promise<void> {
    try {
      const s = await api.sampleData();
      this.sample = s;
      await this.loadPath(s.path, s);
    } catch (e) {
      notify.error(e, 'Could not load the sample data');
    }
  }

  /** A new file: inspect it with the profile's suggestions. */
  async loadPath(path: string, sample: SampleData | null = null): Promise<void> {
    this.sample = sample;
    this.path = path;
    this.inspection = null;
    this.textColumns = [];
    this.labelColumn = null;
    this.board = null;
    this.boardKey = '';
    this.override = false;
    await this.inspect(null, null, null);
  }

  /** Inspect again with the current pickers (and label map). */
  async reinspect(): Promise<void> {
    await this.inspect(
      this.textColumns.length ? [...this.textColumns] : null,
      this.labelColumn,
      this.labelMap,
    );
  }

  /**
   * Re-inspect only if the label map or the checks (model, max length, split) changed
   * since the last inspection. The app keeps the file's rows, so this does not read it again.
   */
  async reinspectIfMapChanged(): Promise<void> {
    if (this.path && inspectKey(this.labelMap, this.checks) !== this.inspectedKey) await this.reinspect();
  }

  /** What the data check measures with: the chosen model and the split training will make. */
  get checks(): Checks {
    const h = this.hyper;
    return {
      ...(this.model ? { model: this.model } : {}),
      maxLength: h.maxLength,
      split: { validationFraction: h.validationFraction, seed: h.seed, maxRows: h.maxRows && h.maxRows > 0 ? h.maxRows : null },
    };
  }

  /** Stop the inspection in progress (the file can be re-checked from the Data step). */
  async cancelInspection(): Promise<void> {
    try {
      await api.cancelInspection();
    } catch (e) {
      notify.error(e, 'Could not cancel the check');
    }
  }

  private async inspect(text: string[] | null, labelColumn: string | null, map: LabelMap | null) {
    const path = this.path;
    if (!path) return;
    const seq = ++this.inspectSeq;
    this.inspecting = true;
    const checks = this.checks;
    try {
      const ins = await api.inspectData(path, text, labelColumn, map ? $state.snapshot(map) : null, checks);
      if (seq !== this.inspectSeq || !ins) return;
      this.inspection = ins;
      this.inspectedMap = mapKey(map);
      this.inspectedKey = inspectKey(map, checks);
      if (!text) this.textColumns = ins.text?.columns ? [...ins.text.columns] : [];
      if (!labelColumn) this.labelColumn = ins.labelColumn;
      this.syncBoard(ins);
    } catch (e) {
      if (seq === this.inspectSeq) notify.error(e, 'Could not read the data file');
    } finally {
      if (seq === this.inspectSeq) this.inspecting = false;
    }
  }

  /** Build the label board when the file or label column changed. */
  private syncBoard(ins: Inspection): void {
    const key = this.currentBoardKey;
    if (this.board && this.boardKey === key) return;
    let raws = ins.rawLabels;
    if (!raws.length && this.labelColumn) {
      raws = ins.profile.columns.find((c) => c.name === this.labelColumn)?.values ?? [];
    }
    if (!raws.length) {
      this.board = null;
      this.boardKey = '';
      return;
    }
    this.board = new LabelBoard(raws, ins.merges);
    this.boardKey = key;
  }

  setTextColumns(columns: string[]): void {
    const unique = columns.filter((c, i) => c && columns.indexOf(c) === i);
    this.textColumns = unique;
    void this.reinspect();
  }

  setLabelColumn(column: string): void {
    if (!column || column === this.labelColumn) return;
    this.labelColumn = column;
    this.board = null;
    this.boardKey = '';
    this.override = false;
    void this.reinspect();
  }

  // ------------------------------------------------------------ labels

  async saveLabelMap(): Promise<void> {
    // Saved as decided: assigned values plus the rule for the others (next month's new values).
    const map = this.board?.labelMap;
    if (!map) return;
    try {
      const path = await api.saveLabelMap($state.snapshot(map));
      if (path) notify.toast(`Label map saved to ${path}`);
    } catch (e) {
      notify.error(e, 'Could not save the label map');
    }
  }

  async loadLabelMap(): Promise<void> {
    try {
      const map = await api.loadLabelMap();
      if (map && this.board) {
        this.board.load(map);
        notify.toast('Label map loaded');
      }
    } catch (e) {
      notify.error(e, 'Could not load the label map');
    }
  }

  // ------------------------------------------------------------ models

  async loadModelsAndDevices(): Promise<void> {
    if (this.modelsLoaded) return;
    this.modelsLoaded = true;
    try {
      const [models, devices] = await Promise.all([api.listModels(), api.listDevices()]);
      const next = { ...this.models };
      for (const m of models) next[m.id] = m;
      this.models = next;
      this.devices = devices;
    } catch (e) {
      this.modelsLoaded = false;
      notify.error(e, 'Could not list models and devices');
    }
  }

  /** Choose a local model folder in the native dialog (the app then lets training use it). */
  async pickModelFolder(): Promise<void> {
    try {
      const status = await api.pickModelFolder();
      if (!status) return;
      this.folderModel = status.id;
      this.models = { ...this.models, [status.id]: status };
    } catch (e) {
      notify.error(e, 'Model not usable');
    }
  }

  async checkModel(): Promise<void> {
    const model = this.model;
    if (!model) return;
    try {
      const status = await api.checkModel(model);
      this.models = { ...this.models, [model]: status };
    } catch (e) {
      notify.error(e, 'Model not usable');
    }
  }

  async downloadModel(): Promise<void> {
    const model = this.model;
    if (!model || this.download) return;
    this.download = { model, file: '', index: 0, files: 0, done: 0, total: 0, finished: false };
    try {
      const folder = await api.downloadModel(model, (e) => {
        const d = this.download;
        if (!d) return;
        if (e.type === 'file') this.download = { ...d, file: e.file, index: e.index, files: e.files, done: 0, total: 0 };
        else if (e.type === 'progress') this.download = { ...d, file: e.file, done: e.done, total: e.total };
        else this.download = { ...d, finished: true };
      });
      this.models = { ...this.models, [model]: { id: model, cached: folder } };
      notify.toast(`${model} is ready`);
    } catch (e) {
      notify.error(e, `Could not download ${model}`);
    } finally {
      this.download = null;
    }
  }

  /** Self-test the selected device against the CPU (auto: the device training would use). */
  async testDevice(): Promise<void> {
    const choice = this.device;
    this.deviceTest = { choice, checks: null };
    try {
      this.deviceTest = { choice, checks: await api.checkDevice(choice) };
    } catch (e) {
      this.deviceTest = null;
      notify.error(e, 'Could not test the device');
    }
  }

  applyPreset(name: PresetName): void {
    this.hyper = { ...HYPER_PRESETS[name].values };
    this.preset = name;
  }

  // ------------------------------------------------------------ training

  trainConfig(): Partial<TrainConfig> {
    const h = this.hyper;
    return {
      model: this.model,
      epochs: h.epochs,
      batchSize: h.batchSize,
      learningRate: h.learningRate,
      weightDecay: h.weightDecay,
      warmupSteps: h.warmupSteps,
      maxLength: h.maxLength,
      seed: h.seed,
      bestMetric: h.bestMetric,
      earlyStoppingPatience: h.earlyStoppingPatience,
      validationFraction: h.validationFraction,
      groupByLength: h.groupByLength,
      device: this.device,
      precision: this.precision,
      method: h.method,
      newHead: this.newHead,
    };
  }

  async startTraining(): Promise<void> {
    if (this.trainBlocker || !this.path || !this.labelColumn) return;
    const session = this.session;
    session.reset('starting', this.hyper.method);
    const map = this.labelMap;
    const request: api.TrainRequest = {
      data: {
        path: this.path,
        text: {
          columns: [...this.textColumns],
          separator: this.inspection?.text?.separator ?? '\n\n',
        },
        labelColumn: this.labelColumn,
        labelMap: map ? $state.snapshot(map) : null,
        validation: null,
        maxRows: this.hyper.maxRows && this.hyper.maxRows > 0 ? this.hyper.maxRows : null,
      },
      config: this.trainConfig(),
      force: this.blocking && this.override,
    };
    await this.follow((onEvent) => api.startTraining(request, onEvent), 'Training could not start');
  }

  /** Start a job with `begin` (given the session's event handler) and follow it; a
   * refusal fails the session with the message, titled `failure`. */
  private async follow(
    begin: (onEvent: (e: TrainEvent) => void) => Promise<string>,
    failure: string,
  ): Promise<void> {
    const session = this.session;
    try {
      const runId = await begin((e) => {
        session.handle(e);
        if (session.done) void this.onTrainingEnded();
      });
      session.runId = runId;
      this.currentRunId = runId;
      await this.refreshRuns();
    } catch (e) {
      if (!session.done) {
        session.error = api.errorMessage(e);
        session.status = 'failed';
      }
      notify.error(e, failure);
    }
  }

  /** Resume a cancelled, failed or interrupted run from its last completed epoch: its
   * recorded curves up to that epoch, then the live ones. */
  async resumeRun(id: string): Promise<void> {
    const session = this.session;
    session.reset('starting', 'fineTune');
    this.step = 'train';
    await this.follow(async (onEvent) => {
      const detail = await api.getRun(id);
      const lastEval = detail.events.map((e) => e.type).lastIndexOf('evaluated');
      session.replay(detail.events.slice(0, lastEval + 1));
      return api.resumeTraining(id, onEvent);
    }, 'Training could not resume');
  }

  async cancelTraining(): Promise<void> {
    try {
      await api.cancelTraining();
    } catch (e) {
      notify.error(e, 'Could not cancel training');
    }
  }

  private async onTrainingEnded(): Promise<void> {
    await this.refreshRuns();
    if (this.session.runId && this.session.status !== 'failed') this.currentRunId = this.session.runId;
  }

  // ------------------------------------------------------------ runs

  openRun(id: string): void {
    this.openRunId = id;
    this.step = 'runs';
  }

  async deleteRun(id: string): Promise<boolean> {
    try {
      await api.deleteRun(id);
      this.evaluations.delete(id);
      this.runs = this.runs.filter((r) => r.id !== id);
      if (this.currentRunId === id) this.currentRunId = this.usableRuns[0]?.id ?? null;
      if (this.openRunId === id) this.openRunId = null;
      notify.toast('Run deleted');
      return true;
    } catch (e) {
      notify.error(e, 'Could not delete the run');
      return false;
    }
  }
}

export let app = new AppState();

/** A fresh state (tests). */
export function resetApp(): AppState {
  app = new AppState();
  return app;
}
