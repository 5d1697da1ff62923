//! Data preparation: from checked field values to the record the pipeline
//! reads, identical for training and prediction (`docs/PIPELINE.md`,
//! "Preparation").

use std::borrow::Cow;

use crate::fields::{
    CATEGORICAL_FIELDS, MISSING_FIELDS, N_CATEGORICAL, N_FIELDS, N_MISSING, feature_names, index_of,
};
use crate::value::Checked;

/// The categorical features, in pipeline order: from the field table's roles.
pub const CATEGORICAL_FEATURES: [&str; N_CATEGORICAL] = feature_names(CATEGORICAL_FIELDS);

/// The numeric features that may be missing (they get indicators and median
/// imputation): from the field table's roles.
pub const NUMERIC_WITH_MISSING: [&str; N_MISSING] = feature_names(MISSING_FIELDS);

/// One passenger after validation and preparation: the features the pipeline uses.
#[derive(Debug, Clone, PartialEq)]
pub struct Record<'a> {
    /// Ticket class, 1, 2 or 3.
    pub pclass: f64,
    /// `"male"` or `"female"`.
    pub sex: Option<&'static str>,
    /// Age in years, if known.
    pub age: Option<f64>,
    /// Siblings and spouses aboard.
    pub sibsp: f64,
    /// Parents and children aboard.
    pub parch: f64,
    /// Fare, if known.
    pub fare: Option<f64>,
    /// The first whitespace-separated token of the cabin, if known.
    pub cabin: Option<Cow<'a, str>>,
    /// `"C"`, `"Q"` or `"S"`, if known.
    pub embarked: Option<&'static str>,
    /// The title derived from the name, if there is a name.
    pub title: Option<&'static str>,
}

const PCLASS: usize = index_of("pclass");
const NAME: usize = index_of("name");
const SEX: usize = index_of("sex");
const AGE: usize = index_of("age");
const SIBSP: usize = index_of("sibsp");
const PARCH: usize = index_of("parch");
const FARE: usize = index_of("fare");
const CABIN: usize = index_of("cabin");
const EMBARKED: usize = index_of("embarked");

impl<'a> Record<'a> {
    /// Prepares checked values (in [`FIELDS`](crate::fields::FIELDS) order): the title from the
    /// name, the first token of the cabin.
    pub fn prepare(values: [Checked<'a>; N_FIELDS]) -> Self {
        let number = |c: &Checked<'_>| match c {
            Checked::Number(n) => Some(*n),
            _ => None,
        };
        let label = |c: &Checked<'_>| match c {
            Checked::Label(l) => Some(*l),
            _ => None,
        };
        let [pclass, name, sex, age, sibsp, parch, fare, cabin, embarked] =
            [PCLASS, NAME, SEX, AGE, SIBSP, PARCH, FARE, CABIN, EMBARKED].map(|i| &values[i]);
        let cabin = match cabin {
            Checked::Text(t) => cabin_token(t).map(Cow::Borrowed),
            // a JSON number given as a cabin stands for its own text
            Checked::Number(n) => Some(Cow::Owned(n.to_string())),
            _ => None,
        };
        Record {
            pclass: number(pclass).unwrap_or_default(),
            sex: label(sex),
            age: number(age),
            sibsp: number(sibsp).unwrap_or_default(),
            parch: number(parch).unwrap_or_default(),
            fare: number(fare),
            cabin,
            embarked: label(embarked),
            title: title_of(name),
        }
    }

    /// The categorical features in [`CATEGORICAL_FEATURES`] order.
    pub fn categorical(&self) -> [Option<&str>; N_CATEGORICAL] {
        CATEGORICAL_FIELDS.map(|field| self.text(field))
    }

    /// The numeric features that may be missing, in [`NUMERIC_WITH_MISSING`]
    /// order.
    #[cfg(feature = "train")]
    pub fn numeric_with_missing(&self) -> [Option<f64>; N_MISSING] {
        MISSING_FIELDS.map(|field| self.number(field))
    }

    /// The value of numeric field number `field` of the field table.
    pub fn number(&self, field: usize) -> Option<f64> {
        match field {
            PCLASS => Some(self.pclass),
            AGE => self.age,
            SIBSP => Some(self.sibsp),
            PARCH => Some(self.parch),
            FARE => self.fare,
            _ => None,
        }
    }

    /// The value of categorical field number `field` of the field table (a
    /// derived one's: the name's title).
    pub fn text(&self, field: usize) -> Option<&str> {
        match field {
            SEX => self.sex,
            CABIN => self.cabin.as_deref(),
            EMBARKED => self.embarked,
            NAME => self.title,
            _ => None,
        }
    }
}

/// The title of a checked name: `None` without one; a number (a JSON
/// number given as a name) has none of the titles.
pub(crate) fn title_of(name: &Checked<'_>) -> Option<&'static str> {
    match name {
        Checked::Text(t) => Some(title(t)),
        Checked::Number(_) => Some("Other"),
        _ => None,
    }
}

/// The title for a name: `Mrs`, `Mr`, `Miss`, `Master` by case-sensitive
/// substring search in that order, else `Other`.
pub fn title(name: &str) -> &'static str {
    // One pass over the `M`s instead of four substring searches; the same
    // answer as testing `name.contains(t)` for each title in turn.
    let (mut mr, mut miss, mut master) = (false, false, false);
    let bytes = name.as_bytes();
    for (i, _) in bytes.iter().enumerate().filter(|(_, b)| **b == b'M') {
        let rest = &bytes[i..];
        if rest.starts_with(b"Mrs") {
            return "Mrs";
        }
        mr |= rest.starts_with(b"Mr");
        miss |= rest.starts_with(b"Miss");
        master |= rest.starts_with(b"Master");
    }
    match (mr, miss, master) {
        (true, ..) => "Mr",
        (_, true, _) => "Miss",
        (.., true) => "Master",
        _ => "Other",
    }
}

/// The first whitespace-separated token of a cabin; `None` if it is blank.
pub fn cabin_token(cabin: &str) -> Option<&str> {
    cabin.split_whitespace().next()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn titles_follow_the_reference_order() {
        assert_eq!(title("Allison, Mrs. Hudson"), "Mrs");
        assert_eq!(title("Allison, Mr. Hudson"), "Mr");
        assert_eq!(title("Allen, Miss. Elisabeth"), "Miss");
        assert_eq!(title("Allison, Master. Hudson"), "Master");
        assert_eq!(title("Brewe, Dr. Arthur"), "Other");
        // plain substring search, case-sensitive, Mrs before Mr
        assert_eq!(title("Mrsx Mr"), "Mrs");
        assert_eq!(title("mrs. lower"), "Other");
    }

    #[test]
    fn title_equals_the_substring_definition() {
        let reference = |name: &str| {
            ["Mrs", "Mr", "Miss", "Master"]
                .into_iter()
                .find(|t| name.contains(t))
                .unwrap_or("Other")
        };
        let data = crate::passenger::read_passengers_csv(include_bytes!("../datasets/titanic.csv"))
            .unwrap();
        let mut names: Vec<String> = data
            .passengers
            .iter()
            .filter_map(|p| match &p.name {
                crate::FieldValue::Text(t) => Some(t.clone()),
                _ => None,
            })
            .collect();
        names.extend(
            [
                "",
                "M",
                "Mr",
                "Mis",
                "Maste",
                "MMrs",
                "xMasterMiss",
                "Ms. Mrx",
                "ÉMr",
            ]
            .map(String::from),
        );
        for name in names {
            assert_eq!(title(&name), reference(&name), "{name:?}");
        }
    }

    #[test]
    fn cabin_is_its_first_token() {
        assert_eq!(cabin_token("C22 C26"), Some("C22"));
        assert_eq!(cabin_token("  F G73"), Some("F"));
        assert_eq!(cabin_token("   "), None);
        assert_eq!(cabin_token(""), None);
    }
}
