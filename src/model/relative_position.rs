//! DeBERTa's relative positions: the (log-bucketed) distance from a query to a key
//! (transformers' `make_log_bucket_position`) and, for one batch length, which row of
//! the relative-position table each (query, key) pair reads in the content-to-position
//! and position-to-content scores.

/// How query-to-key distances map to rows of a relative-position table of
/// [`Self::table_rows`] rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RelativePositions {
    /// `position_buckets`: distances up to half of it map to themselves, longer ones
    /// to log-spaced buckets; 0 for no bucketing.
    buckets: i64,
    /// `max_relative_positions`: the distance the last log bucket reaches.
    max_position: i64,
    /// Rows on each side of distance 0 (the table has `2 * span`).
    span: i64,
}

/// The relative-position rows of one batch shape: the table's rows
/// `first..first + rows` (every row any pair reads), and for each (query, key) pair,
/// query-major, the flat index of its score in the content-to-position scores
/// `(queries, rows)` and in the position-to-content scores `(keys, rows)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RelativeGather {
    pub first: usize,
    pub rows: usize,
    pub c2p: Vec<u32>,
    pub p2c: Vec<u32>,
}

impl RelativePositions {
    /// From config.json's `position_buckets` and `max_relative_positions` (each ≤ 0
    /// when unset; the latter then defaults to `max_position_embeddings`, as in
    /// transformers).
    pub fn new(position_buckets: i64, max_relative_positions: i64, max_positions: usize) -> Self {
        let max_position = if max_relative_positions < 1 {
            max_positions as i64
        } else {
            max_relative_positions
        };
        let buckets = position_buckets.max(0);
        let span = if buckets > 0 { buckets } else { max_position };
        Self {
            buckets,
            max_position,
            span,
        }
    }

    /// Rows of the relative-position table (`rel_embeddings`).
    pub fn table_rows(&self) -> usize {
        2 * self.span as usize
    }

    /// The bucket of the distance `delta` = query position − key position.
    pub fn bucket(&self, delta: i64) -> i64 {
        if self.buckets == 0 {
            return delta;
        }
        let mid = self.buckets / 2;
        let abs = if delta.abs() < mid {
            mid - 1
        } else {
            delta.abs()
        };
        if abs <= mid {
            return delta;
        }
        // In f32, as transformers computes it, so bucket edges fall where they do there.
        let ratio = ((self.max_position - 1) as f64 / mid as f64) as f32;
        let log = ((abs as f32 / mid as f32).ln() / ratio.ln() * (mid - 1) as f32).ceil();
        (log + mid as f32) as i64 * delta.signum()
    }

    /// The table row a query at position `query` reads for a key at `key`: the bucket
    /// shifted by the span and clamped to the table. Position-to-content scores read
    /// the same row (their distance key − query is negated, and buckets are odd).
    fn row(&self, query: usize, key: usize) -> i64 {
        (self.bucket(query as i64 - key as i64) + self.span).clamp(0, 2 * self.span - 1)
    }

    /// The rows and score indices for queries at `queries` over keys `0..keys`.
    pub fn gather(&self, queries: &[usize], keys: usize) -> RelativeGather {
        let rows: Vec<i64> = queries
            .iter()
            .flat_map(|&q| (0..keys).map(move |k| self.row(q, k)))
            .collect();
        let first = rows.iter().copied().min().unwrap_or(0);
        let last = rows.iter().copied().max().unwrap_or(0);
        let width = (last - first + 1) as usize;
        let window = |row: i64| (row - first) as usize;
        let (mut c2p, mut p2c) = (
            Vec::with_capacity(rows.len()),
            Vec::with_capacity(rows.len()),
        );
        for (i, &row) in rows.iter().enumerate() {
            let (query, key) = (i / keys.max(1), i % keys.max(1));
            c2p.push((query * width + window(row)) as u32);
            p2c.push((key * width + window(row)) as u32);
        }
        RelativeGather {
            first: first as usize,
            rows: width,
            c2p,
            p2c,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// deberta-v3's settings (256 buckets over 512 positions), against the values
    /// transformers' `make_log_bucket_position` gives.
    #[test]
    fn log_buckets_match_transformers_for_deberta_v3() {
        let p = RelativePositions::new(256, -1, 512);
        assert_eq!(p.table_rows(), 512);
        for (delta, want) in [
            (-511, -255),
            (-300, -207),
            (-129, -129),
            (-128, -128),
            (-127, -127),
            (0, 0),
            (5, 5),
            (127, 127),
            (128, 128),
            (129, 129),
            (130, 130),
            (200, 169),
            (255, 192),
            (256, 192),
            (300, 207),
            (400, 233),
            (511, 255),
        ] {
            assert_eq!(p.bucket(delta), want, "distance {delta}");
        }
    }

    /// The golden fixture's 8 buckets over 64 positions, every distance, against
    /// transformers.
    #[test]
    fn log_buckets_match_transformers_for_the_fixture() {
        let want = [
            -7, -7, -7, -7, -7, -7, -7, -7, -7, -7, -7, -7, -7, -7, -7, -7, -7, -7, -7, -7, -7, -7,
            -7, -7, -7, -7, -7, -7, -7, -7, -7, -7, -7, -7, -7, -7, -7, -7, -6, -6, -6, -6, -6, -6,
            -6, -6, -6, -6, -6, -6, -6, -6, -6, -5, -5, -5, -5, -5, -5, -4, -3, -2, -1, 0, 1, 2, 3,
            4, 5, 5, 5, 5, 5, 5, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 7, 7, 7, 7, 7, 7, 7,
            7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7,
            7, 7,
        ];
        let p = RelativePositions::new(8, -1, 64);
        let got: Vec<i64> = (-63..64).map(|d| p.bucket(d)).collect();
        assert_eq!(got, want);
    }

    #[test]
    fn without_buckets_distances_are_clamped_to_the_table() {
        let p = RelativePositions::new(0, 3, 512);
        assert_eq!(p.table_rows(), 6);
        assert_eq!(p.bucket(-40), -40);
        // Rows of query 0 over keys 0..5: distances 0, -1, -2, -3, -4 + span 3, clamped.
        let g = p.gather(&[0], 5);
        assert_eq!((g.first, g.rows), (0, 4));
        assert_eq!(g.c2p, [3, 2, 1, 0, 0]);
    }

    /// Each pair's c2p index points into its query's row of `(queries, rows)` scores,
    /// its p2c index into its key's row of `(keys, rows)`, at the same table row.
    #[test]
    fn gather_indexes_the_rows_each_pair_reads() {
        let p = RelativePositions::new(8, -1, 64);
        let g = p.gather(&[0, 1, 2], 3);
        // Distances -2..=2 → rows 6..=10.
        assert_eq!((g.first, g.rows), (6, 5));
        let row = |q: usize, k: usize| 8 + q as u32 - k as u32 - 6;
        for q in 0..3 {
            for k in 0..3 {
                assert_eq!(g.c2p[q * 3 + k], q as u32 * 5 + row(q, k));
                assert_eq!(g.p2c[q * 3 + k], k as u32 * 5 + row(q, k));
            }
        }
        let first_only = p.gather(&[0], 3);
        assert_eq!((first_only.first, first_only.rows), (6, 3));
        assert_eq!(first_only.c2p, [2, 1, 0]);
        assert_eq!(first_only.p2c, [2, 4, 6]);
    }
}
