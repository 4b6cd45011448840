import { describe, expect, it } from 'vitest';
import { LabelBoard, SEED_CLASSES } from './labelBoard.svelte';

const raws: [string, number][] = [
  ['Bug', 40],
  ['feature request', 30],
  ['question', 20],
  ['bug', 5],
  ['Feature-Request', 3],
  ['spam', 2],
];
const merges = [
  { into: 'Bug', members: [['Bug', 40], ['bug', 5]] as [string, number][] },
  { into: 'feature request', members: [['feature request', 30], ['Feature-Request', 3]] as [string, number][] },
];

describe('LabelBoard', () => {
  it('starts with one class per raw value when there are few', () => {
    const b = new LabelBoard(raws, merges);
    expect(b.classes).toEqual(['Bug', 'feature request', 'question', 'bug', 'Feature-Request', 'spam']);
    expect(b.labelMap.mapping).toEqual({
      Bug: 'Bug',
      'feature request': 'feature request',
      question: 'question',
      bug: 'bug',
      'Feature-Request': 'Feature-Request',
      spam: 'spam',
    });
    expect(b.openMerges).toHaveLength(2);
  });

  it('starts with the seed classes and everything unassigned when there are many', () => {
    const many: [string, number][] = Array.from({ length: 20 }, (_, i) => [`intent_${i}`, 20 - i]);
    const b = new LabelBoard(many);
    expect(b.classes).toEqual(SEED_CLASSES);
    expect(b.unassignedCount).toBe(20);
    expect(b.labelMap).toEqual({ mapping: {}, unmapped: 'keep' });
    // kept unmapped values are their own classes in the balance
    expect(b.balance).toHaveLength(20);
    b.filter = 'intent_1';
    expect(b.pool.map(([r]) => r)).toEqual(['intent_1', 'intent_10', 'intent_11', 'intent_12', 'intent_13', 'intent_14', 'intent_15', 'intent_16', 'intent_17', 'intent_18', 'intent_19']);
  });

  it('accepts a merge and removes the emptied class', () => {
    const b = new LabelBoard(raws, merges);
    b.acceptMerge(merges[0]);
    expect(b.labelMap.mapping.bug).toBe('Bug');
    expect(b.classes).not.toContain('bug');
    expect(b.classCount('Bug')).toBe(45);
    expect(b.openMerges.map((m) => m.into)).toEqual(['feature request']);
  });

  it('moves, drops, renames and deletes', () => {
    const b = new LabelBoard(raws, merges);
    b.toggleSelect('spam');
    b.moveSelected(null);
    expect(b.labelMap.mapping.spam).toBeNull();
    expect(b.droppedRows).toBe(2);
    expect(b.selected).toEqual([]);

    expect(b.renameClass('question', 'general_inquiry')).toBeNull();
    expect(b.labelMap.mapping.question).toBe('general_inquiry');
    expect(b.renameClass('general_inquiry', 'Bug')).toMatch(/already/);

    b.deleteClass('general_inquiry');
    expect(b.labelMap.mapping).not.toHaveProperty('question');
    expect(b.members(undefined).map(([r]) => r)).toEqual(['question']);
  });

  it('writes kept unassigned values out for the engine', () => {
    const b = new LabelBoard(raws);
    b.deleteClass('spam');
    expect(b.labelMap.mapping).not.toHaveProperty('spam');
    expect(b.engineMap.mapping.spam).toBe('spam');
    b.unmapped = 'drop';
    expect(b.engineMap.mapping).not.toHaveProperty('spam');
    expect(b.engineMap.unmapped).toBe('drop');
  });

  it('drops unassigned values when asked', () => {
    const b = new LabelBoard(raws);
    b.deleteClass('question');
    expect(b.balance.find((e) => e.label === 'question')?.count).toBe(20);
    b.unmapped = 'drop';
    expect(b.balance.find((e) => e.label === 'question')).toBeUndefined();
    expect(b.labelMap.unmapped).toBe('drop');
    expect(b.droppedRows).toBe(20);
  });

  it('loads a saved map, keeping entries for values not in this file', () => {
    const b = new LabelBoard(raws);
    b.load({ mapping: { Bug: 'bug', bug: 'bug', spam: null, other: 'misc' }, unmapped: 'drop' });
    expect(b.classes).toEqual(['bug', 'misc']);
    expect(b.target('Bug')).toBe('bug');
    expect(b.target('question')).toBeUndefined();
    expect(b.labelMap).toEqual({ mapping: { Bug: 'bug', bug: 'bug', spam: null, other: 'misc' }, unmapped: 'drop' });
  });
});
