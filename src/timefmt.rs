//! Times: microseconds since the epoch, printed as RFC 3339 in UTC.

use chrono::{DateTime, SecondsFormat, Utc};

/// Now, in microseconds since the epoch.
pub fn now_us() -> i64 {
    Utc::now().timestamp_micros()
}

/// RFC 3339 (UTC, seconds) for a time in microseconds since the epoch.
pub fn rfc3339_us(us: i64) -> String {
    DateTime::<Utc>::from_timestamp_micros(us)
        .unwrap_or_default()
        .to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// Now as RFC 3339 (UTC, seconds).
pub fn now_rfc3339() -> String {
    rfc3339_us(now_us())
}

/// Parse RFC 3339 into microseconds since the epoch.
pub fn parse_us(text: &str) -> Option<i64> {
    DateTime::parse_from_rfc3339(text)
        .ok()
        .map(|t| t.with_timezone(&Utc).timestamp_micros())
}

/// "3 min ago", "2 h ago": a short human age.
pub fn age(us_then: i64, us_now: i64) -> String {
    let s = (us_now - us_then).max(0) / 1_000_000;
    match s {
        0..=59 => format!("{s} s ago"),
        60..=3599 => format!("{} min ago", s / 60),
        3600..=172_799 => format!("{} h ago", s / 3600),
        _ => format!("{} days ago", s / 86_400),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let t = rfc3339_us(1_764_043_200_000_000);
        assert_eq!(t, "2025-11-25T04:00:00Z");
        assert_eq!(parse_us(&t), Some(1_764_043_200_000_000));
        assert_eq!(age(0, 90_000_000), "1 min ago");
    }
}
