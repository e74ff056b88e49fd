//! Dropout masks drawn in parallel.
//!
//! Burn's flex backend draws a dropout mask one element after another from one seeded ChaCha
//! generator behind a lock (`TensorData::random` with a Bernoulli distribution): for the CNN's
//! two dropout layers that was about a third of the work a training step leaves on one thread
//! (perf, 2 threads; BENCHMARKS.md), work that more threads cannot share. Here element `i` of a
//! mask comes from output `i / 2` of a SplitMix64 sequence (its low or high 32 bits), so any
//! part of the mask can be computed on its own: rayon fills it in blocks, and the mask is the
//! same whatever the number of threads. The sequence's seed is one draw from the device's own
//! generator, so a seeded device (`Device::seed`, as focal seeds each epoch) gives the same
//! masks run after run.

use rayon::prelude::*;

/// Elements per rayon task (even, so that a task never splits one generator output).
const BLOCK: usize = 1 << 14;

/// Output `i` of the SplitMix64 sequence that starts from `seed` (Steele, Lea and Flood 2014;
/// the generator of Java's `SplittableRandom`).
fn splitmix64(seed: u64, i: u64) -> u64 {
    let mut z = seed.wrapping_add(i.wrapping_add(1).wrapping_mul(0x9E37_79B9_7F4A_7C15));
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A dropout mask of `n` elements: `1 / keep` where an element is kept (probability `keep`,
/// from a 32-bit uniform draw below `keep * 2^32`), `0` where it is dropped. Multiplying by it is
/// Burn's `x * bernoulli(keep) * (1 / keep)` with another draw: the scale is the same `f32`.
pub fn mask(seed: u64, keep: f64, n: usize) -> Vec<f32> {
    let scale = (1.0 / keep) as f32;
    let threshold = (keep * 4_294_967_296.0) as u64;
    let pick = |bits: u64| if bits < threshold { scale } else { 0.0 };
    let mut out = vec![0.0f32; n];
    out.par_chunks_mut(BLOCK)
        .enumerate()
        .for_each(|(block, chunk)| {
            let first = (block * BLOCK / 2) as u64;
            for (j, pair) in chunk.chunks_mut(2).enumerate() {
                let r = splitmix64(seed, first + j as u64);
                pair[0] = pick(r & 0xFFFF_FFFF);
                if let Some(second) = pair.get_mut(1) {
                    *second = pick(r >> 32);
                }
            }
        });
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splitmix64_matches_the_published_sequence() {
        // The first outputs from state 1234567 of the reference algorithm (Vigna's
        // splitmix64.c, the seeder of xoshiro; values from a line-by-line Python transcription
        // of it): a check of the constants and the order of the steps.
        let expected = [
            6457827717110365317u64,
            3203168211198807973,
            9817491932198370423,
            4593380528125082431,
            16408922859458223821,
        ];
        for (i, &e) in expected.iter().enumerate() {
            assert_eq!(splitmix64(1234567, i as u64), e, "output {i}");
        }
    }

    #[test]
    fn masks_keep_the_share_asked_for_and_scale_what_they_keep() {
        for keep in [0.75, 0.5, 0.1] {
            let n = 1_000_001; // odd: the last element uses half an output
            let m = mask(42, keep, n);
            let scale = (1.0 / keep) as f32;
            assert!(m.iter().all(|&v| v == 0.0 || v == scale));
            let kept = m.iter().filter(|&&v| v != 0.0).count() as f64 / n as f64;
            // Binomial std at n = 1e6 is at most 0.0005: six of them.
            assert!((kept - keep).abs() < 0.003, "keep {keep}: kept {kept}");
        }
        assert!(mask(7, 1.0, 1000).iter().all(|&v| v == 1.0));
    }

    #[test]
    fn a_mask_depends_on_its_seed_not_on_the_threads() {
        let n = 5 * BLOCK + 3;
        let one = rayon::ThreadPoolBuilder::new()
            .num_threads(1)
            .build()
            .unwrap()
            .install(|| mask(9, 0.75, n));
        let three = rayon::ThreadPoolBuilder::new()
            .num_threads(3)
            .build()
            .unwrap()
            .install(|| mask(9, 0.75, n));
        assert_eq!(one, three);
        assert_ne!(one, mask(10, 0.75, n));
        // A shorter mask is the start of a longer one.
        assert_eq!(mask(9, 0.75, 100)[..], one[..100]);
    }
}
