// The Train screen's form: the model (preset, hub id or local folder) and its download, the
// device and precision with the device's self-test, and the settings with their presets and
// bounds, all from the engine's catalogue (training_settings) once it is loaded.

import * as api from '../api';
import type {
  Catalogue,
  Checks,
  DeviceCheck,
  DeviceChoice,
  DeviceInfo,
  ModelStatus,
  Precision,
  Preset,
  Setting,
  SplitPlan,
  TrainConfig,
} from '../api';
import { notify } from '../notify.svelte';
import { forMultiLabel, hyperOf, settingLabel, type Hyper } from './settings';

type ModelMode = 'preset' | 'hub' | 'folder';

interface DownloadState {
  model: string;
  file: string;
  index: number;
  files: number;
  done: number;
  total: number;
  finished: boolean;
}

/** The settings the form edits, starting at the engine's defaults. */
export class FormSettings {
  /** The engine's defaults, bounds, presets, labels and help, and suggested models. */
  readonly catalogue: Catalogue;
  hyper: Hyper;
  /** The preset the settings are, until one is edited. */
  preset: string | null;
  device: DeviceChoice;
  precision: Precision;
  /** Replace a base classifier's head that does not fit the classes (else refused). */
  newHead: boolean;

  constructor(catalogue: Catalogue) {
    this.catalogue = catalogue;
    this.hyper = $state(hyperOf(catalogue.config, catalogue.split));
    this.preset = $state(catalogue.defaultPreset);
    this.device = $state(catalogue.config.device);
    this.precision = $state(catalogue.config.precision);
    this.newHead = $state(catalogue.config.newHead);
  }

  /** Named starting points, quickest first. */
  get presets(): Preset[] {
    return this.catalogue.presets;
  }

  /** The chosen preset, if the settings still are one. */
  get presetInfo(): Preset | null {
    return this.presets.find((p) => p.id === this.preset) ?? null;
  }

  /** The split training will make: the form's share, split seed and row limit. */
  get split(): SplitPlan {
    const h = this.hyper;
    return {
      validationFraction: h.validationFraction,
      seed: h.splitSeed,
      maxRows: h.maxRows && h.maxRows > 0 ? h.maxRows : null,
    };
  }

  /** The training config the form describes for `model`; for `multiLabel` data, with the settings
   * such a run refuses at their fixed values (see MULTI_LABEL_FIXED). */
  config(model: string, multiLabel = false): TrainConfig {
    const h = multiLabel ? forMultiLabel(this.hyper) : this.hyper;
    return {
      ...this.catalogue.config,
      model,
      method: h.method,
      epochs: h.epochs,
      batchSize: h.batchSize,
      evalBatchSize: h.evalBatchSize,
      learningRate: h.learningRate,
      weightDecay: h.weightDecay,
      warmupSteps: h.warmupSteps,
      maxGradNorm: h.maxGradNorm,
      maxLength: h.maxLength,
      seed: h.seed,
      bestMetric: h.bestMetric,
      earlyStoppingPatience: h.earlyStoppingPatience,
      groupByLength: h.groupByLength,
      classWeights: h.classWeights,
      sampler: h.sampler,
      device: this.device,
      precision: this.precision,
      newHead: this.newHead,
    };
  }

  /** The data check's advice for strongly imbalanced classes: weigh each class's loss by its
   * effective number of rows and keep the epoch with the best macro-F1. */
  applyImbalanceAdvice(): void {
    this.hyper = { ...this.hyper, classWeights: 'effective', bestMetric: 'macroF1' };
    this.preset = null;
  }

  /** Whether the settings already follow that advice (any class weights, macro-F1). */
  get followsImbalanceAdvice(): boolean {
    return this.hyper.classWeights !== 'none' && this.hyper.bestMetric === 'macroF1';
  }

  /** Start from preset `id`'s settings (the device, precision and head stay). */
  applyPreset(id: string): void {
    const preset = this.presets.find((p) => p.id === id);
    if (!preset) return;
    this.apply(preset.config, preset.split, id);
  }

  /** Take `config`'s settings and `split` (the device, precision and head stay); `preset`: the
   * preset they are, if they are one as it is. */
  apply(config: TrainConfig, split: SplitPlan, preset: string | null): void {
    this.hyper = hyperOf(config, split);
    this.preset = preset;
  }
}

export class TrainForm {
  /** The settings, once the engine's catalogue is loaded (null until then). */
  settings = $state<FormSettings | null>(null);
  private loading: Promise<void> | null = null;

  modelMode = $state<ModelMode>('preset');
  /** The suggested model chosen (the catalogue's default once loaded). */
  presetModel = $state('');
  hubModel = $state('');
  folderModel = $state('');
  models = $state<Record<string, ModelStatus>>({});
  modelsLoaded = $state(false);
  download = $state<DownloadState | null>(null);

  devices = $state<DeviceInfo[]>([]);
  /** The last device self-test: the choice it ran for, and its checks (null while it runs). */
  deviceTest = $state<{ choice: DeviceChoice; checks: DeviceCheck[] | null } | null>(null);

  /** The models offered as one-click choices. */
  get presetModels(): string[] {
    return this.settings?.catalogue.models ?? [];
  }

  /** The recipe's model. */
  get defaultModel(): string | null {
    return this.settings?.catalogue.defaultModel ?? null;
  }

  get model(): string {
    if (this.modelMode === 'hub') return this.hubModel.trim();
    if (this.modelMode === 'folder') return this.folderModel.trim();
    return this.presetModel;
  }

  get modelStatus(): ModelStatus | null {
    return this.models[this.model] ?? null;
  }

  /** Train with `id`: the suggested model when it is one, else a hub id. */
  useModel(id: string): void {
    if (this.presetModels.includes(id)) {
      this.modelMode = 'preset';
      this.presetModel = id;
    } else {
      this.modelMode = 'hub';
      this.hubModel = id;
    }
  }

  /** Why bf16 cannot be chosen on the selected device (for auto: on any available one), or null. */
  get bf16Unavailable(): string | null {
    const device = this.settings?.device;
    if (!device) return null;
    const auto = device === 'auto';
    const candidates = this.devices.filter((d) => (auto ? d.available : d.choice === device));
    if (candidates.some((d) => d.bf16)) return null;
    const which = auto ? 'none is available here' : `${device.toUpperCase()} here is not one`;
    return `bf16 needs an NVIDIA GPU of compute capability 8.0 or newer (Ampere, Hopper, …): ${which}.`;
  }

  /** How the screens name `setting` (the catalogue's label). */
  settingLabel(setting: Setting): string {
    return settingLabel(this.settings?.catalogue ?? null, setting);
  }

  /** What the data check measures with: the chosen model and the split training will make. */
  get checks(): Checks {
    const s = this.settings;
    return { model: this.model || null, maxLength: s?.hyper.maxLength ?? null, split: s?.split ?? null };
  }

  /** Load the engine's settings once (again after a failure); the form waits for them. */
  loadCatalogue(): Promise<void> {
    if (this.settings) return Promise.resolve();
    this.loading ??= api.trainingSettings().then(
      (catalogue) => {
        this.settings = new FormSettings(catalogue);
        if (!this.presetModel) this.presetModel = catalogue.defaultModel;
      },
      (e) => {
        this.loading = null;
        notify.error(e, 'Could not load the training settings');
      },
    );
    return this.loading;
  }

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
      const known = this.models[model] ?? { languages: null, downloadMb: null };
      this.models = { ...this.models, [model]: { ...known, id: model, cached: folder } };
      notify.toast(`${model} is ready`);
    } catch (e) {
      notify.error(e, `Could not download ${model}`);
    } finally {
      this.download = null;
    }
  }

  /** Self-test the selected device against the CPU (auto: the device training would use). */
  async testDevice(): Promise<void> {
    const choice = this.settings?.device;
    if (!choice) return;
    this.deviceTest = { choice, checks: null };
    try {
      this.deviceTest = { choice, checks: await api.checkDevice(choice) };
    } catch (e) {
      this.deviceTest = null;
      notify.error(e, 'Could not test the device');
    }
  }
}
