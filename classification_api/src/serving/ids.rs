//! The API's record and request ids: a record may carry its own under
//! [`ID_KEY`] (else the server makes a UUIDv7), and a request its
//! `X-Request-Id`. One rule for every id: [`ID_RULE`].

use std::collections::HashMap;

use crate::serving::errors::{ErrorItem, RequestError};
use classification_model::schema::{ExtraKey, Keyed};

/// The key of a record's own id.
pub const ID_KEY: &str = "id";

/// A record's own id, as [`Keyed`] records read it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RecordId;

impl ExtraKey for RecordId {
    const KEY: &'static str = ID_KEY;
}

/// A passenger record that may carry its own id.
pub type Identified = Keyed<RecordId>;

/// Longest accepted record or request id.
pub const MAX_ID_CHARS: usize = 128;

/// The id rule, as messages say it.
pub const ID_RULE: &str = "must be 1 to 128 characters with no control characters";

/// The id rule as a JSON Schema pattern (the length is `MAX_ID_CHARS`).
pub const ID_PATTERN: &str = "^[^\\u0000-\\u001f\\u007f-\\u009f]*$";

/// Whether an id is acceptable: 1 to 128 characters, none a control character.
pub fn valid_id(id: &str) -> bool {
    !id.is_empty() && id.chars().count() <= MAX_ID_CHARS && !id.chars().any(char::is_control)
}

/// A new id: a UUIDv7, so that ids sort by time (to the millisecond), with its 74 random bits
/// from the thread's generator (ChaCha, seeded by the OS), so that making
/// one is no system call.
pub fn new_id() -> String {
    use rand::Rng as _;
    let since_epoch = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let random: [u8; 10] = rand::thread_rng().r#gen();
    uuid::Builder::from_unix_timestamp_millis(since_epoch.as_millis() as u64, &random)
        .into_uuid()
        .to_string()
}

/// The request's id: the one it gave (`X-Request-Id`, gRPC's
/// `x-request-id`) if valid, or a new one.
pub fn request_id_or_new(given: Option<&str>) -> String {
    given
        .filter(|v| valid_id(v))
        .map_or_else(new_id, str::to_owned)
}

/// Records' own ids: each valid (else 422), none repeated (else 409).
pub fn check_ids<'a>(
    ids: impl Iterator<Item = Option<&'a str>>,
) -> Result<Vec<Option<String>>, RequestError> {
    let (mut invalid, mut repeated) = (Vec::new(), Vec::new());
    let mut seen = HashMap::new();
    let mut out = Vec::new();
    for (row, id) in ids.enumerate() {
        if let Some(id) = id {
            let at = |message: String| ErrorItem::at(row, ID_KEY, message);
            if !valid_id(id) {
                invalid.push(at(ID_RULE.to_owned()));
            } else if let Some(first) = seen.insert(id, row) {
                repeated.push(at(format!(
                    "repeats the id of row {first}: ids must be unique"
                )));
            }
        }
        out.push(id.map(str::to_owned));
    }
    // a bad id is invalid input (422); a repeated one collides, as with a
    // stored one (409)
    if !invalid.is_empty() {
        Err(RequestError::Invalid(invalid))
    } else if !repeated.is_empty() {
        Err(RequestError::Conflict(repeated))
    } else {
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rule_and_its_words_agree() {
        assert!(ID_RULE.contains(&MAX_ID_CHARS.to_string()));
        assert!(valid_id("a"));
        assert!(valid_id(&"é".repeat(MAX_ID_CHARS)));
        assert!(!valid_id(&"x".repeat(MAX_ID_CHARS + 1)));
        assert!(!valid_id(""));
        assert!(!valid_id("a\u{7}"));
        assert!(!valid_id("a\u{85}"));
        let e = check_ids([Some("a"), None, Some("a")].into_iter()).unwrap_err();
        assert!(matches!(e, RequestError::Conflict(_)));
    }
    #[test]
    fn new_ids_are_distinct_uuid_v7_that_sort_by_time() {
        let ids: Vec<String> = (0..10_000).map(|_| new_id()).collect();
        let unique: std::collections::HashSet<&String> = ids.iter().collect();
        assert_eq!(unique.len(), ids.len());
        let parsed: Vec<uuid::Uuid> = ids.iter().map(|i| i.parse().unwrap()).collect();
        assert!(parsed.iter().all(|u| u.get_version_num() == 7));
        // the millisecond timestamps never go back
        let ms: Vec<u64> = parsed
            .iter()
            .map(|u| u.get_timestamp().unwrap().to_unix().0)
            .collect();
        assert!(ms.windows(2).all(|w| w[0] <= w[1]));
        assert!(ids.iter().all(|i| valid_id(i)));
    }
}
