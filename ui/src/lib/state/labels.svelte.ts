// The Labels screen's state: the label board built from the data's raw labels, the label map
// it makes, and saving or loading that map.

import * as api from '../api';
import type { Inspection, LabelMap } from '../api';
import { LabelBoard } from '../labelBoard.svelte';
import { notify } from '../notify.svelte';

/** The file, label column and label form the labels come from (the Data screen's choice). */
export interface LabelSource {
  readonly path: string | null;
  readonly labelColumn: string | null;
  /** Changes with the file, the label column or the label form. */
  readonly labelSourceKey: string;
}

export class LabelsState {
  board = $state.raw<LabelBoard | null>(null);
  /** The path, label column and label form the board was built for. */
  private boardKey = '';
  private readonly source: LabelSource;

  constructor(source: LabelSource) {
    this.source = source;
  }

  /** The label map training and inspection use (null = none: raw labels as they are). */
  get labelMap(): LabelMap | null {
    return this.board && this.boardKey === this.sourceKey ? this.board.engineMap : null;
  }

  private get sourceKey(): string {
    return this.source.labelSourceKey;
  }

  /** Drop the board (another file, label column or label form). */
  clear(): void {
    this.board = null;
    this.boardKey = '';
  }

  /** Build the board from an inspection when the file, label column or label form changed. */
  sync(ins: Inspection): void {
    const key = this.sourceKey;
    if (this.board && this.boardKey === key) return;
    let raws = ins.rawLabels;
    if (!raws.length && this.source.labelColumn) {
      raws = ins.profile.columns.find((c) => c.name === this.source.labelColumn)?.values ?? [];
    }
    if (!raws.length) {
      this.clear();
      return;
    }
    this.board = new LabelBoard(raws, ins.merges);
    this.boardKey = key;
  }

  async saveMap(): Promise<void> {
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

  async loadMap(): Promise<void> {
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
}
