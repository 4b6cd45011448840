// The Data screen's state: the data file, its text and label columns, its inspection
// (profile, data check and personal data), kept in step with the label map and the training
// settings, and the personal data to replace before training.

import * as api from '../api';
import type { Checks, Inspection, LabelForm, LabelMap, PiiKind, Sample } from '../api';
import { notify } from '../notify.svelte';
import { PII_KINDS } from '../pii';

/** What an inspection needs from the other screens, and tells them (wired by AppState). */
export interface DataLinks {
  /** The label map to inspect with. */
  labelMap(): LabelMap | null;
  /** What the data check measures with: the chosen model and the split training will make. */
  checks(): Checks;
  /** The file, label column or label form changed: the label board no longer applies. */
  sourceChanged(): void;
  /** An inspection came in. */
  inspected(ins: Inspection): void;
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

/** How the file holds its labels, as the Data step's "Labels per ticket" picker names it. */
export type LabelFormKind = LabelForm['kind'];
/** The separator choice: sniffed from the cells (`auto`) or one the engine accepts. */
export type SeparatorChoice = 'auto' | ';' | '|' | ',';
export const SEPARATORS: readonly Exclude<SeparatorChoice, 'auto'>[] = [';', '|', ','];

/** Share of labelled rows whose label holds a separator above which several labels per ticket are suggested. */
const SUGGEST_SHARE = 0.2;

/** 0/1 cell values (as the engine reads them), to pre-tick columns that look like label flags. */
const FLAG_VALUES = new Set(['0', '1', 'true', 'false', 'yes', 'no', 'y', 'n', 'x', '']);

/** The separator most of `rawLabels`' rows hold, when at least a fifth of them do (ties in engine order). */
export function suggestedSeparator(rawLabels: [string, number][]): Exclude<SeparatorChoice, 'auto'> | null {
  const total = rawLabels.reduce((n, [, c]) => n + c, 0);
  let best: Exclude<SeparatorChoice, 'auto'> | null = null;
  let bestRows = 0;
  for (const sep of SEPARATORS) {
    const rows = rawLabels.filter(([v]) => v.includes(sep)).reduce((n, [, c]) => n + c, 0);
    if (rows > bestRows) [best, bestRows] = [sep, rows];
  }
  return total > 0 && bestRows / total >= SUGGEST_SHARE ? best : null;
}

export class DataState {
  path = $state<string | null>(null);
  sample = $state<Sample | null>(null);
  inspection = $state.raw<Inspection | null>(null);
  inspecting = $state(false);
  textColumns = $state<string[]>([]);
  labelColumn = $state<string | null>(null);
  /** Labels per ticket: one, several in the label column, or one 0/1 column per label. */
  formKind = $state<LabelFormKind>('single');
  /** How a label column of several labels is split. */
  separator = $state<SeparatorChoice>('auto');
  /** The 0/1 label columns (`columns` form), in file order. */
  flagColumns = $state<string[]>([]);
  /** The label map the current inspection was made with. */
  inspectedMap = $state('null');
  /** Train despite blocking findings of the data check. */
  override = $state(false);
  /** Kinds of personal data replaced by placeholders before the model sees a text (engine order). */
  scrub = $state<PiiKind[]>([]);
  /** The label map and checks the current inspection was made with. */
  private inspectedKey = '';
  private inspectSeq = 0;
  private readonly links: DataLinks;

  constructor(links: DataLinks) {
    this.links = links;
  }

  /** The label form inspection and training read the file with. */
  get labelForm(): LabelForm {
    if (this.formKind === 'separated') return { kind: 'separated', separator: this.separator === 'auto' ? null : this.separator };
    if (this.formKind === 'columns') return { kind: 'columns', columns: [...this.flagColumns] };
    return { kind: 'single' };
  }

  /** Whether tickets hold label sets (several labels each). */
  get multiLabel(): boolean {
    return this.formKind !== 'single';
  }

  /** The columns the labels are read from are chosen (a label column, or at least one 0/1 column). */
  get labelsChosen(): boolean {
    return this.formKind === 'columns' ? this.flagColumns.length > 0 : !!this.labelColumn;
  }

  /** What the labels come from, as the label board knows it: a change makes a new board. */
  get labelSourceKey(): string {
    return JSON.stringify([this.path, this.formKind === 'columns' ? null : this.labelColumn, this.labelForm]);
  }

  get blocking(): boolean {
    return !!this.inspection?.report?.findings.some((f) => f.severity === 'blocking');
  }

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
  async loadPath(path: string, sample: Sample | null = null): Promise<void> {
    this.sample = sample;
    this.path = path;
    this.inspection = null;
    this.textColumns = [];
    this.labelColumn = null;
    this.formKind = 'single';
    this.separator = 'auto';
    this.flagColumns = [];
    this.links.sourceChanged();
    this.override = false;
    this.scrub = [];
    await this.inspect(null, null, null);
  }

  /** Inspect again with the current pickers (and label map). */
  async reinspect(): Promise<void> {
    await this.inspect(
      this.textColumns.length ? [...this.textColumns] : null,
      this.labelColumn,
      this.links.labelMap(),
    );
  }

  /**
   * Re-inspect only if the label map or the checks (model, max length, split) changed
   * since the last inspection. The app keeps the file's rows, so this does not read it again.
   */
  async reinspectIfMapChanged(): Promise<void> {
    if (this.path && inspectKey(this.links.labelMap(), this.links.checks()) !== this.inspectedKey) await this.reinspect();
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
    const checks = this.links.checks();
    try {
      const form = this.labelForm;
      if (form.kind === 'columns' && !form.columns.length) return;
      const column = form.kind === 'columns' ? null : labelColumn;
      const ins = await api.inspectData(path, text, column, map ? $state.snapshot(map) : null, checks, form);
      if (seq !== this.inspectSeq || !ins) return;
      this.inspection = ins;
      this.inspectedMap = mapKey(map);
      this.inspectedKey = inspectKey(map, checks);
      if (!text) this.textColumns = ins.text?.columns ? [...ins.text.columns] : [];
      if (!labelColumn && form.kind !== 'columns') this.labelColumn = ins.labelColumn;
      this.links.inspected(ins);
    } catch (e) {
      if (seq === this.inspectSeq) notify.error(e, 'Could not read the data file');
    } finally {
      if (seq === this.inspectSeq) this.inspecting = false;
    }
  }

  setTextColumns(columns: string[]): void {
    const unique = columns.filter((c, i) => c && columns.indexOf(c) === i);
    this.textColumns = unique;
    void this.reinspect();
  }

  setLabelColumn(column: string): void {
    if (!column || column === this.labelColumn) return;
    this.labelColumn = column;
    this.links.sourceChanged();
    this.override = false;
    void this.reinspect();
  }

  /** Read the labels in another form (one per ticket, split, or 0/1 columns); the 0/1 form starts
   * with the columns that hold only 0/1 values ticked. */
  setFormKind(kind: LabelFormKind): void {
    if (kind === this.formKind) return;
    this.formKind = kind;
    if (kind === 'columns' && !this.flagColumns.length) this.flagColumns = this.flagLikeColumns();
    this.labelFormChanged();
  }

  setSeparator(separator: SeparatorChoice): void {
    if (separator === this.separator) return;
    this.separator = separator;
    this.labelFormChanged();
  }

  /** Tick or untick a 0/1 label column. */
  toggleFlagColumn(column: string): void {
    const on = !this.flagColumns.includes(column);
    const columns = this.inspection?.profile.columns.map((c) => c.name) ?? [];
    this.flagColumns = columns.filter((c) => (c === column ? on : this.flagColumns.includes(c)));
    this.labelFormChanged();
  }

  /** The file's columns (not the text) whose values all look like 0/1 flags. */
  private flagLikeColumns(): string[] {
    return (this.inspection?.profile.columns ?? [])
      .filter((c) => !this.textColumns.includes(c.name) && c.values.length > 0)
      .filter((c) => c.values.every(([v]) => FLAG_VALUES.has(v.trim().toLowerCase())))
      .map((c) => c.name);
  }

  private labelFormChanged(): void {
    this.links.sourceChanged();
    this.override = false;
    if (this.formKind === 'columns' && !this.flagColumns.length) {
      // Nothing to read labels from yet: the old inspection no longer describes them.
      this.inspectSeq++;
      this.inspecting = false;
      return;
    }
    void this.reinspect();
  }

  /** Replace personal data of `kind` before the model, or stop replacing it. */
  toggleScrub(kind: PiiKind): void {
    const on = !this.scrub.includes(kind);
    this.scrub = PII_KINDS.filter((k) => (k === kind ? on : this.scrub.includes(k)));
  }

  /** Replace personal data of `kinds` too. */
  scrubAlso(kinds: PiiKind[]): void {
    this.scrub = PII_KINDS.filter((k) => kinds.includes(k) || this.scrub.includes(k));
  }
}
