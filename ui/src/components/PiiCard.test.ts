import { beforeEach, describe, expect, it } from 'vitest';
import { fireEvent, render, screen, within } from '@testing-library/svelte';
import PiiCard from './PiiCard.svelte';
import { app, resetApp } from '../lib/app.svelte';
import type { PiiExample } from '../lib/api';
import { piiSurvey } from '../test/fixtures';

// Offsets are UTF-8 bytes, as the engine counts: "Grüße 🎉 — write to " is 26 bytes but
// 20 UTF-16 code units, "jörg@example.com" 17 bytes but 16 code units.
const TEXT = 'Grüße 🎉 — write to jörg@example.com or call +49 30 1234567.';
const example: PiiExample = {
  line: 7,
  text: TEXT,
  spans: [
    { kind: 'email', start: 26, end: 43 },
    { kind: 'phone', start: 52, end: 66 },
  ],
  cutStart: true,
  cutEnd: false,
};

const survey = () =>
  piiSurvey(120, [
    { kind: 'email', tickets: 3, examples: [example, { ...example, line: 9 }, { ...example, line: 12 }, { ...example, line: 15 }] },
    { kind: 'phone', tickets: 1, examples: [example] },
  ]);

describe('personal data card', () => {
  beforeEach(() => resetApp());

  it('lists the kinds found with their share, and marks each value at its characters', () => {
    render(PiiCard, { survey: survey() });
    const email = screen.getByTestId('pii-kind-email');
    expect(email).toHaveTextContent('e-mail addresses 3 tickets 2.5% Replace with [EMAIL]');
    expect(screen.getByTestId('pii-kind-phone')).toHaveTextContent('phone numbers 1 ticket 0.8% Replace with [PHONE]');
    expect(screen.queryByTestId('pii-kind-iban')).toBeNull();

    const rows = within(email).getAllByRole('row') as HTMLTableRowElement[];
    expect(rows.map((r) => r.cells[0].textContent)).toEqual(['line 7', 'line 9', 'line 12']);
    const cell = rows[0].cells[1];
    expect(cell.textContent).toBe(`…${TEXT}`);
    const marks = [...cell.querySelectorAll('mark')];
    expect(marks.map((m) => [m.className.split(' ')[0], m.textContent])).toEqual([
      ['email', 'jörg@example.com'],
      ['phone', '+49 30 1234567'],
    ]);
    expect(marks[0].title).toBe('[EMAIL]');
  });

  it('chooses the kinds to replace in the data state, one at a time or all found', async () => {
    render(PiiCard, { survey: survey() });
    await fireEvent.click(screen.getByTestId('pii-scrub-phone'));
    await fireEvent.click(screen.getByTestId('pii-scrub-email'));
    expect(app.data.scrub).toEqual(['email', 'phone']);
    await fireEvent.click(screen.getByTestId('pii-scrub-phone'));
    expect(app.data.scrub).toEqual(['email']);
    expect(screen.getByTestId('pii-scrub-phone')).not.toBeChecked();

    await fireEvent.click(screen.getByTestId('pii-scrub-all'));
    expect(app.data.scrub).toEqual(['email', 'phone']);
    expect(screen.getByTestId('pii-scrub-phone')).toBeChecked();
    expect(screen.getByTestId('pii-scrub-all')).toBeDisabled();
  });

  it('says in one line when none is found', () => {
    render(PiiCard, { survey: piiSurvey(1) });
    expect(screen.getByTestId('pii-card')).toHaveTextContent(/^No personal data found in 1 ticket\.$/);
  });
});
