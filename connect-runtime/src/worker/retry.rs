//! When to retry a failing operation and how long to wait first (`errors.retry.timeout`,
//! `errors.retry.delay.max.ms`): exponential backoff from 300 ms, as Kafka Connect's
//! `RetryWithToleranceOperator` does, capped by the maximum delay and by what is left of the
//! timeout. Every retry decision of the sink loop is made here.

use std::time::Duration;

/// The first pause between attempts (Kafka's `RETRIES_DELAY_MIN_MS`).
const FIRST_DELAY: Duration = Duration::from_millis(300);

/// Retry settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// How long retries may go on after the first failure; `None` for ever.
    timeout: Option<Duration>,
    max_delay: Duration,
}

impl RetryPolicy {
    pub fn new(timeout: Option<Duration>, max_delay: Duration) -> Self {
        Self { timeout, max_delay }
    }

    /// Never retry (Kafka's default, `errors.retry.timeout=0`).
    pub fn never() -> Self {
        Self::new(Some(Duration::ZERO), Duration::ZERO)
    }

    /// After `failures` failed attempts, the first `elapsed` ago: how long to wait before
    /// trying again, or `None` to give up.
    pub fn next_delay(&self, failures: u32, elapsed: Duration) -> Option<Duration> {
        let left = match self.timeout {
            Some(timeout) if elapsed >= timeout => return None,
            Some(timeout) => Some(timeout - elapsed),
            None => None,
        };
        let doubled = FIRST_DELAY.saturating_mul(1u32 << failures.saturating_sub(1).min(20));
        let delay = doubled.min(self.max_delay);
        Some(left.map_or(delay, |left| delay.min(left)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn no_timeout_means_no_retry() {
        assert_eq!(RetryPolicy::never().next_delay(1, Duration::ZERO), None);
    }

    #[test]
    fn delays_double_up_to_the_cap_and_stop_at_the_timeout() {
        let policy = RetryPolicy::new(Some(ms(5_000)), ms(1_000));
        assert_eq!(policy.next_delay(1, ms(0)), Some(ms(300)));
        assert_eq!(policy.next_delay(2, ms(300)), Some(ms(600)));
        assert_eq!(policy.next_delay(3, ms(900)), Some(ms(1_000)));
        assert_eq!(policy.next_delay(9, ms(4_800)), Some(ms(200)));
        assert_eq!(policy.next_delay(10, ms(5_000)), None);
    }

    #[test]
    fn minus_one_retries_for_ever() {
        let policy = RetryPolicy::new(None, ms(60_000));
        assert_eq!(
            policy.next_delay(40, Duration::from_secs(86_400)),
            Some(ms(60_000))
        );
    }
}
