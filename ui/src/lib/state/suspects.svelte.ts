// Suspect labels: a search (find_suspects) for the tickets whose given label is probably wrong,
// for one source (the data file, or a run's data), with its progress, report and cancelling;
// and the suspects the person kept as labelled, hidden for the rest of the session.

import * as api from '../api';
import type { Suspect, SuspectProgress, SuspectReport, SuspectSource } from '../api';
import { notify } from '../notify.svelte';
import { count } from '../trainSession.svelte';

export type SearchStatus = 'idle' | 'running' | 'done' | 'cancelled' | 'failed';

/** The share of the progress bar the encoding fills: the folds' heads fit in a moment. */
const ENCODING_SHARE = 0.9;

function sourceKey(source: SuspectSource): string {
  return JSON.stringify(source);
}

function suspectKey(s: Suspect): string {
  return `${s.line}\u0000${s.text}`;
}

export class SuspectsState {
  status = $state<SearchStatus>('idle');
  /** The last progress of the running search (null before the first: the model loads). */
  progress = $state.raw<SuspectProgress | null>(null);
  report = $state.raw<SuspectReport | null>(null);
  /** The suspects kept as labelled (line and text). */
  private kept = $state.raw<ReadonlySet<string>>(new Set());
  /** The source of the last search. */
  private key = $state<string | null>(null);
  private seq = 0;

  /** Whether the last search was for `source` (another source's search is not shown for it). */
  isFor(source: SuspectSource): boolean {
    return this.key === sourceKey(source);
  }

  /** The share of the search done; null while the model loads. */
  get fraction(): number | null {
    const p = this.progress;
    if (!p) return null;
    if (p.type === 'encoding') return p.total ? (ENCODING_SHARE * p.done) / p.total : 0;
    return ENCODING_SHARE + ((1 - ENCODING_SHARE) * (p.fold - 1)) / p.folds;
  }

  /** What the running search is doing. */
  get progressLabel(): string {
    const p = this.progress;
    if (!p) return 'Loading the model…';
    if (p.type === 'encoding') return `Encoding ${count(p.done)} / ${count(p.total)} tickets`;
    return `Cross-validating, fold ${p.fold} of ${p.folds}`;
  }

  /** The report's suspects, less those kept as labelled. */
  get shown(): Suspect[] {
    return (this.report?.suspects ?? []).filter((s) => !this.kept.has(suspectKey(s)));
  }

  /** How many of the report's suspects were kept as labelled. */
  get keptCount(): number {
    return (this.report?.suspects.length ?? 0) - this.shown.length;
  }

  /** Search `source` (a newer search, here or elsewhere, cancels this one). */
  async find(source: SuspectSource): Promise<void> {
    const mine = ++this.seq;
    this.key = sourceKey(source);
    this.status = 'running';
    this.progress = null;
    this.report = null;
    try {
      const report = await api.findSuspects(source, (p) => {
        if (mine === this.seq) this.progress = p;
      });
      if (mine !== this.seq) return;
      this.report = report;
      this.status = report ? 'done' : 'cancelled';
    } catch (e) {
      if (mine !== this.seq) return;
      this.status = 'failed';
      notify.error(e, 'Could not find suspect labels');
    }
  }

  /** Stop the running search (it ends as cancelled). */
  async cancel(): Promise<void> {
    try {
      await api.cancelSuspects();
    } catch (e) {
      notify.error(e, 'Could not cancel the search');
    }
  }

  /** The given label is right: hide the suspect. */
  keep(s: Suspect): void {
    this.kept = new Set(this.kept).add(suspectKey(s));
  }
}
