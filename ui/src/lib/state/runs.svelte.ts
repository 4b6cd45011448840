// The runs' state: the list of past runs, the run Review and Try work on, the run opened
// on the Runs screen, and the reviews of ended runs.

import * as api from '../api';
import type { Review, RunRecord } from '../api';
import { notify } from '../notify.svelte';

export class RunsState {
  list = $state<RunRecord[]>([]);
  loaded = $state(false);
  /** The run Review and Try work on. */
  currentId = $state<string | null>(null);
  /** The run opened on the Runs page. */
  openId = $state<string | null>(null);
  /** Reviews of ended runs (their models no longer change). */
  readonly reviews = new Map<string, Review>();

  /** Runs that have a model to review or try. */
  get usable(): RunRecord[] {
    return this.list.filter((r) => r.status === 'finished' || r.status === 'cancelled' || (r.summary && r.best));
  }

  async refresh(): Promise<void> {
    try {
      this.list = await api.listRuns();
      this.loaded = true;
      if (!this.currentId) {
        const first = this.usable[0];
        if (first) this.currentId = first.id;
      }
    } catch (e) {
      notify.error(e, 'Could not list past runs');
    }
  }

  async remove(id: string): Promise<boolean> {
    try {
      await api.deleteRun(id);
      this.reviews.delete(id);
      this.list = this.list.filter((r) => r.id !== id);
      if (this.currentId === id) this.currentId = this.usable[0]?.id ?? null;
      if (this.openId === id) this.openId = null;
      notify.toast('Run deleted');
      return true;
    } catch (e) {
      notify.error(e, 'Could not delete the run');
      return false;
    }
  }
}
