// The label mapping board's model: raw label values (with row counts) assigned to
// target classes, to "drop", or left unassigned; turned into the engine's LabelMap.

import type { LabelMap, MergeSuggestion, Unmapped } from './api';

/** Where a raw value goes: a class name, `null` = drop its rows, `undefined` = unassigned. */
export type Target = string | null | undefined;

/** Seed classes offered when the file has many raw values. */
export const SEED_CLASSES = ['bug', 'feature_request', 'general_inquiry'];
/** Up to this many raw values, the board starts with one class per value. */
export const IDENTITY_LIMIT = 12;

export interface BalanceEntry {
  label: string;
  count: number;
  share: number;
  /** True when the class comes from an unassigned value kept as its own class. */
  own: boolean;
}

export class LabelBoard {
  /** Raw values and their row counts, most frequent first. */
  readonly raws: [string, number][];
  readonly counts: Record<string, number>;
  readonly merges: MergeSuggestion[];

  classes = $state<string[]>([]);
  /** raw → class name or null (drop). Missing = unassigned. */
  assign = $state<Record<string, string | null>>({});
  unmapped = $state<Unmapped>('keep');
  selected = $state<string[]>([]);
  filter = $state('');
  /** Merge suggestions accepted or dismissed (by `into`). */
  settledMerges = $state<string[]>([]);
  /** Mapping entries for raw values not in this file (kept from a loaded map). */
  extra = $state<Record<string, string | null>>({});

  constructor(raws: [string, number][], merges: MergeSuggestion[] = []) {
    this.raws = [...raws].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
    this.counts = Object.fromEntries(this.raws);
    this.merges = merges;
    if (this.raws.length <= IDENTITY_LIMIT) {
      const classes: string[] = [];
      const assign: Record<string, string | null> = {};
      for (const [raw] of this.raws) {
        const name = raw.trim();
        if (!classes.includes(name)) classes.push(name);
        assign[raw] = name;
      }
      this.classes = classes;
      this.assign = assign;
    } else {
      this.classes = [...SEED_CLASSES];
      this.assign = {};
    }
  }

  // ------------------------------------------------------------ queries

  target(raw: string): Target {
    return Object.prototype.hasOwnProperty.call(this.assign, raw) ? this.assign[raw] : undefined;
  }

  /** Raw values assigned to `target` (class name, null = drop, undefined = pool). */
  members(target: Target): [string, number][] {
    return this.raws.filter(([raw]) => this.target(raw) === target);
  }

  /** The unassigned pool, filtered by the filter box. */
  get pool(): [string, number][] {
    const q = this.filter.trim().toLowerCase();
    return this.members(undefined).filter(([raw]) => !q || raw.toLowerCase().includes(q));
  }

  get unassignedCount(): number {
    return this.members(undefined).length;
  }

  classCount(name: string): number {
    return this.members(name).reduce((n, [, c]) => n + c, 0);
  }

  get droppedRows(): number {
    let n = this.members(null).reduce((s, [, c]) => s + c, 0);
    if (this.unmapped === 'drop') n += this.members(undefined).reduce((s, [, c]) => s + c, 0);
    return n;
  }

  /** Merge suggestions still open. */
  get openMerges(): MergeSuggestion[] {
    return this.merges.filter(
      (m) => !this.settledMerges.includes(m.into) && !this.mergeApplied(m),
    );
  }

  private mergeApplied(m: MergeSuggestion): boolean {
    const first = this.target(m.members[0][0]);
    return (
      typeof first === 'string' && m.members.every(([raw]) => this.target(raw) === first)
    );
  }

  /** The map training uses. */
  get labelMap(): LabelMap {
    const mapping: Record<string, string | null> = { ...this.extra };
    for (const [raw] of this.raws) {
      const t = this.target(raw);
      if (t !== undefined) mapping[raw] = t;
    }
    return { mapping, unmapped: this.unmapped };
  }

  /**
   * The map sent to the engine for inspection and training. Unassigned values kept as
   * their own class are written out (raw → raw): the same result, but the engine does
   * not report them as missing from the map, since keeping them was a choice made here.
   */
  get engineMap(): LabelMap {
    const map = this.labelMap;
    if (this.unmapped === 'keep') {
      for (const [raw] of this.members(undefined)) map.mapping[raw] = raw;
    }
    return map;
  }

  /** Resulting classes with their row counts, largest first. */
  get balance(): BalanceEntry[] {
    const totals = new Map<string, { count: number; own: boolean }>();
    for (const [raw, count] of this.raws) {
      const t = this.target(raw);
      let label: string;
      let own = false;
      if (t === null) continue;
      if (t === undefined) {
        if (this.unmapped === 'drop') continue;
        label = raw;
        own = true;
      } else {
        label = t;
      }
      const cur = totals.get(label);
      if (cur) {
        cur.count += count;
        cur.own = cur.own && own;
      } else {
        totals.set(label, { count, own });
      }
    }
    const sum = [...totals.values()].reduce((s, v) => s + v.count, 0);
    return [...totals.entries()]
      .map(([label, v]) => ({ label, count: v.count, own: v.own, share: sum ? v.count / sum : 0 }))
      .sort((a, b) => b.count - a.count || a.label.localeCompare(b.label));
  }

  // ------------------------------------------------------------ edits

  /** Move raw values to a class (`name`), to drop (`null`) or back to the pool (`undefined`). */
  move(raws: string[], target: Target): void {
    if (typeof target === 'string' && !this.classes.includes(target)) {
      this.classes = [...this.classes, target];
    }
    const next = { ...this.assign };
    for (const raw of raws) {
      if (!(raw in this.counts)) continue;
      if (target === undefined) delete next[raw];
      else next[raw] = target;
    }
    this.assign = next;
    this.selected = this.selected.filter((r) => !raws.includes(r));
  }

  /** Move the selected cards (the click path). */
  moveSelected(target: Target): void {
    this.move([...this.selected], target);
  }

  toggleSelect(raw: string): void {
    this.selected = this.selected.includes(raw)
      ? this.selected.filter((r) => r !== raw)
      : [...this.selected, raw];
  }

  clearSelection(): void {
    this.selected = [];
  }

  /** Add a class; returns an error sentence, or null when added. */
  addClass(name: string): string | null {
    const n = name.trim();
    if (!n) return 'Give the class a name.';
    if (this.classes.includes(n)) return `There is already a class called “${n}”.`;
    this.classes = [...this.classes, n];
    return null;
  }

  /** Rename a class (its cards follow); returns an error sentence, or null. */
  renameClass(from: string, to: string): string | null {
    const n = to.trim();
    if (!n) return 'A class needs a name.';
    if (n === from) return null;
    if (this.classes.includes(n)) return `There is already a class called “${n}”.`;
    this.classes = this.classes.map((c) => (c === from ? n : c));
    const next: Record<string, string | null> = {};
    for (const [raw, t] of Object.entries(this.assign)) next[raw] = t === from ? n : t;
    this.assign = next;
    return null;
  }

  /** Delete a class; its cards return to the pool. */
  deleteClass(name: string): void {
    this.classes = this.classes.filter((c) => c !== name);
    const next: Record<string, string | null> = {};
    for (const [raw, t] of Object.entries(this.assign)) if (t !== name) next[raw] = t;
    this.assign = next;
  }

  /** Accept a merge suggestion: every member goes into the class `into`. */
  acceptMerge(m: MergeSuggestion): void {
    const members = m.members.map(([raw]) => raw);
    const before = new Set(members.map((raw) => this.target(raw)));
    this.move(members, m.into);
    // Classes that only held the merged spellings are now empty: remove them.
    for (const t of before) {
      if (typeof t === 'string' && t !== m.into && this.members(t).length === 0) {
        this.classes = this.classes.filter((c) => c !== t);
      }
    }
    this.settledMerges = [...this.settledMerges, m.into];
  }

  dismissMerge(m: MergeSuggestion): void {
    this.settledMerges = [...this.settledMerges, m.into];
  }

  acceptAllMerges(): void {
    for (const m of this.openMerges) this.acceptMerge(m);
  }

  /** Reset to an empty board: seed classes, everything unassigned. */
  clearAll(): void {
    this.classes = [...SEED_CLASSES];
    this.assign = {};
    this.selected = [];
  }

  /** Apply a saved map: its classes replace the board's. */
  load(map: LabelMap): void {
    const classes: string[] = [];
    const assign: Record<string, string | null> = {};
    const extra: Record<string, string | null> = {};
    for (const [raw, t] of Object.entries(map.mapping)) {
      if (typeof t === 'string' && !classes.includes(t)) classes.push(t);
      const key = raw in this.counts ? raw : raw.trim() in this.counts ? raw.trim() : null;
      if (key === null) extra[raw] = t;
      else assign[key] = t;
    }
    this.classes = classes;
    this.assign = assign;
    this.extra = extra;
    this.unmapped = map.unmapped === 'drop' ? 'drop' : 'keep';
    this.selected = [];
    this.settledMerges = [];
  }
}
