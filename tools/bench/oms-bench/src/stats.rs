//! Latency summaries.

use std::time::Duration;

use serde::Serialize;

/// Percentiles of a set of timings, in microseconds.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Latency {
    /// Median.
    pub p50_us: u64,
    /// 99th percentile (nearest rank: of 200 calls, the second slowest).
    pub p99_us: u64,
    /// Mean.
    pub mean_us: u64,
    /// Slowest.
    pub max_us: u64,
}

impl Latency {
    /// The summary of `timings` (none: all zero).
    pub fn of(timings: &[Duration]) -> Self {
        if timings.is_empty() {
            return Self { p50_us: 0, p99_us: 0, mean_us: 0, max_us: 0 };
        }
        let mut us: Vec<u64> = timings.iter().map(|t| micros(*t)).collect();
        us.sort_unstable();
        let rank = |p: f64| us[((p * us.len() as f64).ceil() as usize).clamp(1, us.len()) - 1];
        Self {
            p50_us: rank(0.50),
            p99_us: rank(0.99),
            mean_us: us.iter().sum::<u64>() / us.len() as u64,
            max_us: us[us.len() - 1],
        }
    }
}

/// Whole microseconds.
pub fn micros(d: Duration) -> u64 {
    u64::try_from(d.as_micros()).unwrap_or(u64::MAX)
}

/// `a / b` to two decimals, or `None` when `b` is zero.
pub fn ratio(a: f64, b: f64) -> Option<f64> {
    (b > 0.0).then(|| (a / b * 100.0).round() / 100.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let timings: Vec<Duration> = (1..=200).map(Duration::from_micros).collect();
        let l = Latency::of(&timings);
        assert_eq!((l.p50_us, l.p99_us, l.max_us), (100, 198, 200));
        assert_eq!(Latency::of(&[Duration::from_micros(7)]).p99_us, 7);
        assert_eq!(ratio(3.0, 2.0), Some(1.5));
        assert_eq!(ratio(1.0, 0.0), None);
    }
}
