// The settings form's numeric fields: which setting each one edits and how it is typed, and
// the text typed into it with its validation, before the value reaches the form. Each field's
// label, help and bounds come from the engine's catalogue.

import type { Catalogue, Limits, Setting, SplitPlan, TrainConfig } from '../../lib/api';
import type { Hyper } from '../../lib/state/settings';
import type { TrainForm } from '../../lib/state/trainForm.svelte';

type NumField = Exclude<keyof Hyper, 'bestMetric' | 'method' | 'groupByLength' | 'classWeights' | 'sampler'> & Setting;

/** How a field is typed and shown; what it means comes from the catalogue. */
interface Presentation {
  /** The setting it edits. */
  key: NumField;
  testid: string;
  step: number | 'any';
  integer?: boolean;
  /** Empty means "not set". */
  optional?: boolean;
  placeholder?: string;
  /** For a number without bounds in the catalogue: which values it may take. */
  sign?: 'positive' | 'nonNegative';
  /** Not used by the baseline method. */
  fineTuneOnly?: boolean;
}

export interface FieldSpec extends Presentation {
  label: string;
  help: string;
  min?: number;
  max?: number;
}

const FIELDS: Presentation[] = [
  { key: 'epochs', testid: 'hp-epochs', step: 1, integer: true, fineTuneOnly: true },
  { key: 'batchSize', testid: 'hp-batch-size', step: 1, integer: true, fineTuneOnly: true },
  { key: 'learningRate', testid: 'hp-learning-rate', step: 'any', sign: 'positive', fineTuneOnly: true },
  { key: 'maxLength', testid: 'hp-max-length', step: 1, integer: true },
  { key: 'maxRows', testid: 'hp-max-rows', step: 1, integer: true, optional: true, placeholder: 'all rows' },
  { key: 'weightDecay', testid: 'hp-weight-decay', step: 'any', sign: 'nonNegative', fineTuneOnly: true },
  { key: 'warmupSteps', testid: 'hp-warmup-steps', step: 1, integer: true, fineTuneOnly: true },
  { key: 'validationFraction', testid: 'hp-validation', step: 0.05 },
  { key: 'earlyStoppingPatience', testid: 'hp-early-stopping', step: 1, integer: true, optional: true, placeholder: 'off', fineTuneOnly: true },
  { key: 'seed', testid: 'hp-seed', step: 1, integer: true, sign: 'nonNegative' },
  { key: 'splitSeed', testid: 'hp-split-seed', step: 1, integer: true, sign: 'nonNegative' },
];

/** The fields with the catalogue's labels, help and bounds. */
function fieldsOf(catalogue: Catalogue): FieldSpec[] {
  const { limits, settings } = catalogue;
  return FIELDS.map((f) => {
    const info = settings.find((s) => s.setting === f.key);
    const bounds = f.key in limits ? limits[f.key as keyof Limits] : null;
    return {
      ...f,
      label: info?.label ?? f.key,
      help: info?.help ?? '',
      min: bounds ? bounds.min : f.sign ? 0 : undefined,
      max: bounds?.max,
    };
  });
}

export class SettingsInputs {
  /** The form's fields, once the catalogue is loaded. */
  readonly fields = $derived.by(() => {
    const settings = this.form.settings;
    return settings ? fieldsOf(settings.catalogue) : [];
  });
  /** Whether a typed value is not valid (training cannot start then). */
  readonly invalid = $derived(this.fields.some((f) => this.error(f) !== null));
  /** What is typed in each field, until it settles into a valid value. */
  private drafts = $state<Record<string, string>>({});
  private readonly form: TrainForm;

  constructor(form: TrainForm) {
    this.form = form;
  }

  /** The field's text: what is typed, else its value (2e-5 reads better than 0.00002). */
  shown(f: FieldSpec): string {
    if (f.key in this.drafts) return this.drafts[f.key];
    const v = this.form.settings?.hyper[f.key];
    if (v === null || v === undefined) return '';
    return v !== 0 && Math.abs(v) < 1e-3 ? v.toExponential() : String(v);
  }

  /** What is wrong with the typed text, or null. */
  error(f: FieldSpec): string | null {
    return f.key in this.drafts ? check(f, this.drafts[f.key]) : null;
  }

  /** Keep the typed text; a valid one becomes the setting (and no preset applies then). */
  edit(f: FieldSpec, text: string): void {
    this.drafts[f.key] = text;
    const settings = this.form.settings;
    if (!settings || check(f, text)) return;
    const t = text.trim();
    settings.hyper = { ...settings.hyper, [f.key]: t === '' ? null : Number(t) };
    settings.preset = null;
  }

  /** On leaving a field: forget valid text (the value shows as the form has it). */
  settle(f: FieldSpec): void {
    if (!check(f, this.drafts[f.key] ?? '')) delete this.drafts[f.key];
  }

  applyPreset(id: string): void {
    this.drafts = {};
    this.form.settings?.applyPreset(id);
  }

  /** Take settings from elsewhere (a suggestion): see FormSettings.apply. */
  apply(config: TrainConfig, split: SplitPlan, preset: string | null): void {
    this.drafts = {};
    this.form.settings?.apply(config, split, preset);
  }
}

function check(f: FieldSpec, text: string): string | null {
  const t = text.trim();
  if (!t) return f.optional ? null : 'Required';
  const v = Number(t);
  if (!Number.isFinite(v)) return 'Not a number';
  if (f.integer && !Number.isInteger(v)) return 'Whole number';
  if (f.sign === 'positive' && v <= 0) return 'Must be positive';
  if (f.min !== undefined && v < f.min) return `At least ${f.min}`;
  if (f.max !== undefined && v > f.max) return `At most ${f.max}`;
  return null;
}
