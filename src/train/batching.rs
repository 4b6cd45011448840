//! The order rows are fed in: shuffled each epoch (seeded), optionally grouped by
//! length like transformers' `LengthGroupedSampler` so batches carry little padding.

use rand::{rngs::StdRng, seq::SliceRandom};

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
}
