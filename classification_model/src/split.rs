//! The scikit-learn-compatible train/test split:
//! `train_test_split(X, y, test_size, random_state=seed)`.

use rand_mt::Mt;

/// `numpy.random.RandomState(seed).permutation(n)`: MT19937 seeded with
/// `init_genrand(seed)`, then numpy's legacy Fisher-Yates shuffle of `0..n`.
pub fn numpy_permutation(n: usize, seed: u32) -> Vec<usize> {
    let mut rng = Mt::new(seed);
    let mut perm: Vec<usize> = (0..n).collect();
    for i in (1..n).rev() {
        let j = random_interval(&mut rng, i as u64);
        perm.swap(i, j as usize);
    }
    perm
}

/// numpy's legacy `random_interval(max)`: a uniform integer in `0..=max` by
/// masked rejection sampling.
fn random_interval(rng: &mut Mt, max: u64) -> u64 {
    if max == 0 {
        return 0;
    }
    let mut mask = max;
    for shift in [1, 2, 4, 8, 16, 32] {
        mask |= mask >> shift;
    }
    if max <= u64::from(u32::MAX) {
        loop {
            let value = u64::from(rng.next_u32()) & mask;
            if value <= max {
                return value;
            }
        }
    }
    loop {
        let value = rng.next_u64() & mask;
        if value <= max {
            return value;
        }
    }
}

/// Row indices of the training and test sets, in permutation order, as
/// scikit-learn's `train_test_split(..., test_size, random_state=seed)`
/// returns them: `n_test = ceil(test_size * n)`, test first.
///
/// A `test_size` of 0 means no split: every row trains, in file order.
pub fn train_test_split(n: usize, test_size: f64, seed: u32) -> (Vec<usize>, Vec<usize>) {
    if test_size == 0.0 {
        return ((0..n).collect(), Vec::new());
    }
    let n_test = ((test_size * n as f64).ceil() as usize).min(n);
    let perm = numpy_permutation(n, seed);
    let (test, train) = perm.split_at(n_test);
    (train.to_vec(), test.to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_numpy_check_vector() {
        let perm = numpy_permutation(1309, 0);
        assert_eq!(
            &perm[..10],
            &[1139, 533, 459, 1150, 393, 1189, 5, 231, 330, 887]
        );
        let (train, test) = train_test_split(1309, 0.2, 0);
        assert_eq!(test.len(), 262);
        assert_eq!(train.len(), 1047);
        assert_eq!(&test[259..], &[426, 554, 1213]);
    }

    #[test]
    fn is_a_permutation() {
        for n in [0, 1, 2, 17, 1000] {
            let mut p = numpy_permutation(n, 42);
            p.sort_unstable();
            assert_eq!(p, (0..n).collect::<Vec<_>>());
        }
    }

    #[test]
    fn no_split_keeps_file_order() {
        let (train, test) = train_test_split(5, 0.0, 3);
        assert_eq!(train, [0, 1, 2, 3, 4]);
        assert!(test.is_empty());
    }
}
