//! Every retry decision of the HTTP sink, in one place: which outcomes are retried
//! (5xx, 408, 429, connection errors and timeouts), which are final (other 4xx and
//! anything else outside 2xx), how long to wait (exponential backoff with jitter between
//! `retry.backoff.ms` and `retry.backoff.max.ms`, or what `Retry-After` asks for on 429
//! and 503), and when to give up (`retry.max.attempts`).

use std::time::{Duration, SystemTime};

use reqwest::StatusCode;
use reqwest::header::{HeaderMap, RETRY_AFTER};

use crate::httptime::parse_http_date;

/// The retry settings of a task.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetrySettings {
    /// Attempts per batch before giving up; `None` retries for ever.
    pub max_attempts: Option<u32>,
    pub backoff: Duration,
    pub backoff_max: Duration,
}

/// What to do after one attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Delivered,
    /// Try again; `after` is the receiver's `Retry-After`, when it sent one that applies.
    Retry {
        after: Option<Duration>,
    },
    /// Retrying cannot help: the batch goes to the dead-letter topic (or fails the task).
    Reject,
}

/// Classifies a response.
pub fn verdict_for(status: StatusCode, headers: &HeaderMap, now: SystemTime) -> Verdict {
    if status.is_success() {
        return Verdict::Delivered;
    }
    match status.as_u16() {
        429 | 503 => Verdict::Retry {
            after: retry_after(headers, now),
        },
        408 | 500..=599 => Verdict::Retry { after: None },
        _ => Verdict::Reject,
    }
}

/// Classifies a request that got no answer: connection failures and timeouts are
/// retried, and so is anything else on the way (a TLS or protocol error may be a receiver
/// being redeployed), within `retry.max.attempts`.
pub fn verdict_for_transport(_error: &reqwest::Error) -> Verdict {
    Verdict::Retry { after: None }
}

/// `Retry-After` as a delay: delta-seconds or an HTTP date (a past date means now).
pub fn retry_after(headers: &HeaderMap, now: SystemTime) -> Option<Duration> {
    let text = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(seconds) = text.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let at = parse_http_date(text)?;
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

impl RetrySettings {
    /// Whether a batch that failed `attempts` times gets another attempt.
    pub fn allows_another(&self, attempts: u32) -> bool {
        self.max_attempts.is_none_or(|max| attempts < max)
    }

    /// The pause after the `failures`-th failed attempt (1-based): `Retry-After` when the
    /// receiver sent one, else the backoff doubled per failure, capped, with "equal
    /// jitter" (a random point in its upper half, never below `retry.backoff.ms`) so
    /// tasks retrying together spread out.
    pub fn delay(&self, failures: u32, retry_after: Option<Duration>) -> Duration {
        if let Some(after) = retry_after {
            return after;
        }
        let doublings = failures.saturating_sub(1).min(30);
        let ceiling = self
            .backoff
            .saturating_mul(1u32 << doublings)
            .min(self.backoff_max);
        let half = ceiling / 2;
        let jitter = Duration::from_nanos(fastrand::u64(0..=half.as_nanos() as u64));
        (half + jitter).max(self.backoff).min(self.backoff_max)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    fn settings() -> RetrySettings {
        RetrySettings {
            max_attempts: Some(3),
            backoff: Duration::from_millis(100),
            backoff_max: Duration::from_millis(1_000),
        }
    }

    fn status(code: u16, headers: &HeaderMap) -> Verdict {
        verdict_for(
            StatusCode::from_u16(code).unwrap(),
            headers,
            SystemTime::now(),
        )
    }

    #[test]
    fn statuses_are_classified() {
        let none = HeaderMap::new();
        assert_eq!(status(200, &none), Verdict::Delivered);
        assert_eq!(status(204, &none), Verdict::Delivered);
        for code in [500, 502, 504, 408, 429, 503] {
            assert_eq!(
                status(code, &none),
                Verdict::Retry { after: None },
                "{code}"
            );
        }
        for code in [400, 401, 403, 404, 409, 413, 422, 304] {
            assert_eq!(status(code, &none), Verdict::Reject, "{code}");
        }
    }

    #[test]
    fn retry_after_seconds_or_date_on_429_and_503_only() {
        let mut headers = HeaderMap::new();
        headers.insert(RETRY_AFTER, HeaderValue::from_static("7"));
        let seven = Verdict::Retry {
            after: Some(Duration::from_secs(7)),
        };
        assert_eq!(status(503, &headers), seven);
        assert_eq!(status(429, &headers), seven);
        assert_eq!(status(500, &headers), Verdict::Retry { after: None });
        let now = parse_http_date("Sun, 06 Nov 1994 08:49:30 GMT").unwrap();
        headers.insert(
            RETRY_AFTER,
            HeaderValue::from_static("Sun, 06 Nov 1994 08:49:37 GMT"),
        );
        assert_eq!(retry_after(&headers, now), Some(Duration::from_secs(7)));
        let later = now + Duration::from_secs(60);
        assert_eq!(retry_after(&headers, later), Some(Duration::ZERO));
        headers.insert(RETRY_AFTER, HeaderValue::from_static("soon"));
        assert_eq!(retry_after(&headers, now), None);
    }

    #[test]
    fn backoff_doubles_with_jitter_within_bounds() {
        let settings = settings();
        for _ in 0..200 {
            let first = settings.delay(1, None);
            assert_eq!(first, Duration::from_millis(100));
            let third = settings.delay(3, None);
            assert!((Duration::from_millis(200)..=Duration::from_millis(400)).contains(&third));
            let tenth = settings.delay(10, None);
            assert!((Duration::from_millis(500)..=Duration::from_millis(1_000)).contains(&tenth));
        }
        assert_eq!(
            settings.delay(1, Some(Duration::from_secs(2))),
            Duration::from_secs(2)
        );
    }

    #[test]
    fn attempts_are_limited_unless_for_ever() {
        let settings = settings();
        assert!(settings.allows_another(2));
        assert!(!settings.allows_another(3));
        let for_ever = RetrySettings {
            max_attempts: None,
            ..settings
        };
        assert!(for_ever.allows_another(u32::MAX));
    }
}
