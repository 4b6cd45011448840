import { describe, expect, it } from 'vitest';
import { render, screen } from '@testing-library/svelte';
import RouteBadge from './RouteBadge.svelte';

describe('route badge', () => {
  it('sends an unsure ticket to a person, naming the threshold', () => {
    render(RouteBadge, { route: 'person', confidence: 0.62, threshold: 0.87 });
    const badge = screen.getByTestId('route-badge');
    expect(badge).toHaveAttribute('data-route', 'person');
    expect(badge).toHaveTextContent('Unsure → person');
    expect(badge).toHaveTextContent('Confidence 62.0% is below the routing threshold of 0.87');
  });

  it('notes a ticket handled automatically, quietly', () => {
    render(RouteBadge, { route: 'auto', confidence: 0.95, threshold: 0.87 });
    expect(screen.getByTestId('route-badge')).toHaveTextContent('Handled automatically (clears the routing threshold of 0.87).');
  });

  it('shows nothing when the model routes nothing', () => {
    render(RouteBadge, { route: null, confidence: 0.95 });
    expect(screen.queryByTestId('route-badge')).toBeNull();
  });
});
