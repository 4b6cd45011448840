//! The order rows are fed in: shuffled each epoch (seeded), or drawn so that classes
//! appear about equally often; optionally grouped by length like transformers'
//! `LengthGroupedSampler` so batches carry little padding.

use rand::{rngs::StdRng, seq::SliceRandom, Rng};

/// Split `lengths.len()` rows into batches of `batch_size` indices for one epoch.
/// With `group_by_length`, rows are shuffled, cut into mega-batches of 50 batches,
/// each sorted by length, and the resulting batches shuffled.
pub fn epoch_batches(
    lengths: &[usize],
    batch_size: usize,
    group_by_length: bool,
    rng: &mut StdRng,
) -> Vec<Vec<usize>> {
    let mut order: Vec<usize> = (0..lengths.len()).collect();
    order.shuffle(rng);
    into_batches(order, lengths, batch_size, group_by_length, rng)
}

/// One epoch of the balanced sampler, in batches as [`epoch_batches`] cuts them: as
/// many rows as `labels` has (row `i` is of class `labels[i]`), each class drawn
/// about equally often (every class with rows gets ⌊N / K⌋ draws, the remainder goes
/// to classes picked at random), each draw a row of its class picked with
/// replacement.
pub fn balanced_batches(
    labels: &[u32],
    lengths: &[usize],
    batch_size: usize,
    group_by_length: bool,
    rng: &mut StdRng,
) -> Vec<Vec<usize>> {
    let order = balanced_order(labels, rng);
    into_batches(order, lengths, batch_size, group_by_length, rng)
}

/// The rows of one balanced epoch, shuffled (see [`balanced_batches`]).
fn balanced_order(labels: &[u32], rng: &mut StdRng) -> Vec<usize> {
    let mut by_class: Vec<Vec<usize>> = Vec::new();
    for (row, &label) in labels.iter().enumerate() {
        let class = label as usize;
        if by_class.len() <= class {
            by_class.resize_with(class + 1, Vec::new);
        }
        by_class[class].push(row);
    }
    by_class.retain(|rows| !rows.is_empty());
    let classes = by_class.len();
    if classes == 0 {
        return Vec::new();
    }
    let mut draws = vec![labels.len() / classes; classes];
    let mut extra: Vec<usize> = (0..classes).collect();
    extra.shuffle(rng);
    for &class in extra.iter().take(labels.len() % classes) {
        draws[class] += 1;
    }
    let mut order = Vec::with_capacity(labels.len());
    for (rows, draws) in by_class.iter().zip(draws) {
        order.extend((0..draws).map(|_| rows[rng.random_range(0..rows.len())]));
    }
    order.shuffle(rng);
    order
}

/// `order` cut into batches of `batch_size`; with `group_by_length`, cut into
/// mega-batches of 50 batches, each sorted by length, and the batches shuffled.
fn into_batches(
    order: Vec<usize>,
    lengths: &[usize],
    batch_size: usize,
    group_by_length: bool,
    rng: &mut StdRng,
) -> Vec<Vec<usize>> {
    if !group_by_length {
        return order.chunks(batch_size).map(<[usize]>::to_vec).collect();
    }
    let mut batches: Vec<Vec<usize>> = Vec::new();
    for mega in order.chunks(batch_size * 50) {
        let mut mega = mega.to_vec();
        mega.sort_by_key(|&i| std::cmp::Reverse(lengths[i]));
        batches.extend(mega.chunks(batch_size).map(<[usize]>::to_vec));
    }
    batches.shuffle(rng);
    batches
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn every_row_once_and_grouping_cuts_padding() {
        let lengths: Vec<usize> = (0..1000).map(|i| (i * 7919) % 120 + 5).collect();
        let mut rng = StdRng::seed_from_u64(3);
        let padded = |batches: &[Vec<usize>]| -> usize {
            batches
                .iter()
                .map(|b| b.iter().map(|&i| lengths[i]).max().unwrap() * b.len())
                .sum()
        };
        for group in [false, true] {
            let batches = epoch_batches(&lengths, 16, group, &mut rng);
            let mut seen: Vec<usize> = batches.concat();
            seen.sort();
            assert_eq!(seen, (0..1000).collect::<Vec<_>>());
            assert!(batches.iter().all(|b| b.len() <= 16));
        }
        let plain = padded(&epoch_batches(&lengths, 16, false, &mut rng));
        let grouped = padded(&epoch_batches(&lengths, 16, true, &mut rng));
        assert!(
            grouped * 10 < plain * 7,
            "grouped {grouped} vs plain {plain}"
        );
    }

    #[test]
    fn a_balanced_epoch_draws_classes_about_equally_and_the_seed_fixes_it() {
        // 900, 90 and 10 rows: 90%, 9% and 1% of a skewed set.
        let labels: Vec<u32> = (0..1000)
            .map(|i| match i {
                0..900 => 0,
                900..990 => 1,
                _ => 2,
            })
            .collect();
        let lengths = vec![8; labels.len()];
        let draw = |seed| {
            balanced_batches(
                &labels,
                &lengths,
                16,
                false,
                &mut StdRng::seed_from_u64(seed),
            )
        };
        let epoch = draw(5);
        let rows: Vec<usize> = epoch.concat();
        assert_eq!(rows.len(), labels.len(), "as many rows as a plain epoch");
        assert_eq!(epoch.len(), labels.len().div_ceil(16));
        let mut counts = [0usize; 3];
        for &row in &rows {
            counts[labels[row] as usize] += 1;
        }
        assert!(
            counts.iter().all(|&c| c.abs_diff(1000 / 3) <= 1),
            "{counts:?}"
        );
        // The smallest class's rows are repeated; each of them is drawn.
        let mut small: Vec<usize> = rows.iter().copied().filter(|&r| r >= 990).collect();
        small.sort();
        small.dedup();
        assert_eq!(small, (990..1000).collect::<Vec<_>>());
        assert_eq!(draw(5), epoch);
        assert_ne!(draw(6), epoch);
    }
}
