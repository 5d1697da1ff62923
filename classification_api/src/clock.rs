//! Time as the history stores it (microseconds since the Unix epoch) and as
//! the API shows it (RFC 3339, UTC).

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// Now, in microseconds since the Unix epoch.
pub fn now_us() -> i64 {
    (OffsetDateTime::now_utc().unix_timestamp_nanos() / 1000) as i64
}

/// RFC 3339 in UTC with microseconds, e.g. `2026-11-23T21:04:05.123456Z`.
pub fn format(us: i64) -> String {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(us) * 1000)
        .ok()
        .and_then(|t| t.format(&Rfc3339).ok())
        .unwrap_or_default()
}

/// Reads an RFC 3339 time with any offset.
pub fn parse(text: &str) -> Result<i64, String> {
    OffsetDateTime::parse(text.trim(), &Rfc3339)
        .map(|t| (t.unix_timestamp_nanos() / 1000) as i64)
        .map_err(|e| format!("must be an RFC 3339 time such as 2026-11-23T21:00:00Z: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_reads_offsets() {
        let t = parse("2026-11-23T21:04:05.123456Z").unwrap();
        assert_eq!(format(t), "2026-11-23T21:04:05.123456Z");
        assert_eq!(parse("2026-11-23T22:04:05.123456+01:00").unwrap(), t);
        assert!(parse("yesterday").is_err());
        assert!(now_us() > t - 1);
    }
}
