//! A batch of records as any protocol reads it, before it is checked.

use classification_model::Passenger;

use crate::serving::errors::ErrorItem;

/// Passengers read from a request, with the CSV line of each where the body
/// was CSV.
#[derive(Debug, Default)]
pub struct Batch {
    /// The passengers, in order.
    pub passengers: Vec<Passenger>,
    /// The ids the records carried, checked: valid and unique.
    pub ids: Vec<Option<String>>,
    /// For CSV, the line each record starts on.
    pub lines: Option<Vec<u64>>,
}

impl Batch {
    /// Adds the line of `lines` (a CSV body's) to errors that name a row.
    pub fn locate_in(lines: Option<&[u64]>, mut items: Vec<ErrorItem>) -> Vec<ErrorItem> {
        if let Some(lines) = lines {
            for item in &mut items {
                item.line = item.row.and_then(|r| lines.get(r).copied());
            }
        }
        items
    }
}
