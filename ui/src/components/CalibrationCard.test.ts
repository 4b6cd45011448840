import { describe, expect, it } from 'vitest';
import { fireEvent, render, screen } from '@testing-library/svelte';
import CalibrationCard from './CalibrationCard.svelte';
import { trust } from '../test/fixtures';

describe('calibration card', () => {
  it('shows the calibration error before and after the temperature, and says it was fitted on these rows', () => {
    render(CalibrationCard, { calibration: trust().calibration });
    expect(screen.getByTestId('ece')).toHaveTextContent('8.4% → 2.1%');
    expect(screen.getByTestId('temperature')).toHaveTextContent('1.50');
    expect(screen.getByTestId('calibration-note')).toHaveTextContent('fitted on these 18 validation tickets');
  });

  it('draws one point per non-empty bin, before and after, and toggles them', async () => {
    const calibration = trust().calibration;
    const filled = (bins: typeof calibration.binsAfter) => bins.filter((b) => b.count > 0).length;
    render(CalibrationCard, { calibration });
    expect(screen.getByTestId('reliability-diagram')).toBeInTheDocument();
    expect(screen.getAllByTestId('reliability-point-after')).toHaveLength(filled(calibration.binsAfter));
    expect(screen.getAllByTestId('reliability-point-before')).toHaveLength(filled(calibration.binsBefore));
    // Each point names its bin and count.
    const first = screen.getAllByTestId('reliability-point-after')[0];
    expect(first.querySelector('title')).toHaveTextContent(/After calibration: confidence \d+%–\d+%, \d+ tickets?/);

    await fireEvent.click(screen.getByTestId('reliability-view-after'));
    expect(screen.queryAllByTestId('reliability-point-before')).toHaveLength(0);
    expect(screen.getByTestId('reliability-view-after')).toHaveAttribute('aria-pressed', 'true');
    await fireEvent.click(screen.getByTestId('reliability-view-before'));
    expect(screen.queryAllByTestId('reliability-point-after')).toHaveLength(0);
  });

  it('says when the model keeps no temperature', () => {
    const calibration = { ...trust().calibration, temperature: 1, eceBefore: 0.05, eceAfter: 0.05 };
    render(CalibrationCard, { calibration });
    expect(screen.getByTestId('ece')).toHaveTextContent(/^5\.0%$/);
    expect(screen.getByTestId('calibration-note')).toHaveTextContent('keeps no temperature');
  });
});
