// One data file's corrections: single tickets given another class or dropped, kept by the
// app per data file; setting and undoing them, bringing them in from a file, saving them,
// and exporting the corrected data.

import * as api from '../api';
import type { Correction, Corrections, LabelMap } from '../api';
import { notify } from '../notify.svelte';

/** A ticket to correct: the line it starts on, its text and the class it was given. */
export interface Ticket {
  line: number;
  text: string;
  given: string;
}

export class CorrectionsState {
  /** The data file the corrections are for. */
  path = $state<string | null>(null);
  list = $state.raw<Correction[]>([]);
  /** A change is on its way to the app (the controls wait for it). */
  busy = $state(false);
  private seq = 0;
  private readonly changed: () => void;

  /** `changed`: the kept corrections changed (the data check applies them). */
  constructor(changed: () => void = () => {}) {
    this.changed = changed;
  }

  get relabelled(): number {
    return this.list.filter((c) => c.label !== null).length;
  }

  get dropped(): number {
    return this.list.length - this.relabelled;
  }

  /** A ticket's correction: same line, and its text starts with the kept preview. */
  find(line: number, text: string): Correction | undefined {
    return this.list.find((c) => c.line === line && text.startsWith(c.text));
  }

  /** The corrections kept for data file `path` (none for null). */
  async open(path: string | null): Promise<void> {
    const mine = ++this.seq;
    this.path = path;
    this.list = [];
    if (!path) return;
    try {
      const kept = await api.correctionsFor(path);
      if (mine === this.seq) this.list = kept.corrections;
    } catch (e) {
      if (mine === this.seq) notify.error(e, 'Could not read the corrections');
    }
  }

  /** Give a ticket class `label`, or drop it (null); back to its given class removes the correction. */
  async set(ticket: Ticket, label: string | null): Promise<void> {
    await this.change(
      (path) => api.correctTicket(path, ticket.line, ticket.text, ticket.given, label),
      'Could not correct the ticket',
    );
  }

  async undo(c: Correction): Promise<void> {
    await this.change((path) => api.undoCorrection(path, c.line, c.hash), 'Could not undo the correction');
  }

  /** Replace the kept corrections with ones from a file the person picks. */
  async load(): Promise<void> {
    if (await this.change((path) => api.loadCorrections(path), 'Could not load the corrections')) {
      notify.toast('Corrections loaded');
    }
  }

  async save(): Promise<void> {
    const path = this.path;
    if (!path) return;
    try {
      const out = await api.saveCorrections(path);
      if (out) notify.toast(`Corrections saved to ${out}`);
    } catch (e) {
      notify.error(e, 'Could not save the corrections');
    }
  }

  /** Write the data file, mapped and corrected, as a CSV the person picks. */
  async exportCsv(text: string[], labelColumn: string, labelMap: LabelMap | null): Promise<void> {
    const path = this.path;
    if (!path) return;
    try {
      const done = await api.exportCorrected(path, text, labelColumn, labelMap);
      if (done) notify.toast(`${done[1].rows} rows written to ${done[0]} (${done[1].leftOut} left out)`);
    } catch (e) {
      notify.error(e, 'Could not export the corrected data');
    }
  }

  /** Send one change; the app answers with the file's corrections (null: cancelled). */
  private async change(
    send: (path: string) => Promise<Corrections | null>,
    failure: string,
  ): Promise<boolean> {
    const path = this.path;
    if (!path) return false;
    const mine = this.seq;
    this.busy = true;
    try {
      const kept = await send(path);
      if (!kept || mine !== this.seq) return false;
      this.list = kept.corrections;
      this.changed();
      return true;
    } catch (e) {
      notify.error(e, failure);
      return false;
    } finally {
      this.busy = false;
    }
  }
}
