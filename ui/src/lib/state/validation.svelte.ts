// Where a run's validation tickets come from: a share of the training file (the split,
// as by default), or the analyst's own file, read with the data file's columns, label map
// and that file's own corrections, and checked for tickets that repeat training tickets.

import * as api from '../api';
import type { DataSpec, ValidationSummary } from '../api';

export class ValidationState {
  /** The chosen validation file; null = a share of the training file. */
  path = $state<string | null>(null);
  /** What the file holds, read as training will read it (null while checking or on error). */
  summary = $state.raw<ValidationSummary | null>(null);
  /** Why the file cannot be used as it is (names the file, and the row and value). */
  error = $state<string | null>(null);
  checking = $state(false);
  /** Leave out its tickets that repeat training tickets, instead of only warning. */
  dropOverlap = $state(false);
  private seq = 0;
  private readonly spec: () => DataSpec | null;
  private readonly changed: () => void;

  /** `spec`: the data the run would train on (its validation is replaced); `changed`:
   * the choice changed (the data check reads the file instead of the split). */
  constructor(spec: () => DataSpec | null, changed: () => void = () => {}) {
    this.spec = spec;
    this.changed = changed;
  }

  /** Ask for a file; keeps the current choice when cancelled. */
  async choose(): Promise<void> {
    try {
      const path = await api.pickValidationFile();
      if (!path) return;
      this.path = path;
      this.dropOverlap = false;
      this.changed();
      await this.check();
    } catch (e) {
      this.error = api.errorMessage(e);
    }
  }

  /** Read the chosen file again (after the columns, label map or corrections changed). */
  async check(): Promise<void> {
    const path = this.path;
    const spec = this.spec();
    if (!path) return;
    const seq = ++this.seq;
    this.checking = true;
    this.summary = null;
    this.error = null;
    try {
      if (!spec) throw new Error('Load a data file and pick its text and label columns first (Data step).');
      const summary = await api.checkValidationFile({ ...spec, validation: path });
      if (seq === this.seq) this.summary = summary;
    } catch (e) {
      if (seq === this.seq) this.error = api.errorMessage(e);
    } finally {
      if (seq === this.seq) this.checking = false;
    }
  }

  /** Back to a share of the training file. */
  useSplit(): void {
    this.seq++;
    this.path = null;
    this.summary = null;
    this.error = null;
    this.checking = false;
    this.dropOverlap = false;
    this.changed();
  }
}
