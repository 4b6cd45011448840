// The Data screen's state: the data file, its text and label columns, its inspection
// (profile, data check and personal data), kept in step with the label map and the training
// settings, and the personal data to replace before training.

import * as api from '../api';
import type { Checks, Inspection, LabelMap, PiiKind, Sample } from '../api';
import { notify } from '../notify.svelte';
import { PII_KINDS } from '../pii';

/** What an inspection needs from the other screens, and tells them (wired by AppState). */
export interface DataLinks {
  /** The label map to inspect with. */
  labelMap(): LabelMap | null;
  /** What the data check measures with: the chosen model and the split training will make. */
  checks(): Checks;
  /** The file or label column changed: the label board no longer applies. */
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

export class DataState {
  path = $state<string | null>(null);
  sample = $state<Sample | null>(null);
  inspection = $state.raw<Inspection | null>(null);
  inspecting = $state(false);
  textColumns = $state<string[]>([]);
  labelColumn = $state<string | null>(null);
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
      const ins = await api.inspectData(path, text, labelColumn, map ? $state.snapshot(map) : null, checks);
      if (seq !== this.inspectSeq || !ins) return;
      this.inspection = ins;
      this.inspectedMap = mapKey(map);
      this.inspectedKey = inspectKey(map, checks);
      if (!text) this.textColumns = ins.text?.columns ? [...ins.text.columns] : [];
      if (!labelColumn) this.labelColumn = ins.labelColumn;
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
