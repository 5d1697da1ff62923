//! The field table: every input column declared once, with its rules.
//!
//! The [`Passenger`] struct, validation ([`Field::check`]), the JSON Schema of
//! a record ([`crate::schema::json_schema`]), `/model`'s feature list
//! ([`FeatureSpec`]), the CSV header check and the grouping of explanations
//! all derive from the one `fields!` declaration below. Changing a field's
//! rule is one edit there. The text rules themselves are in `docs/PIPELINE.md`
//! ("Input rules").

use crate::value::{Checked, FieldValue, PADDING, plain_decimal, shorten};

/// What kind of value a field holds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Kind {
    /// A whole number from `min` to `max`.
    Integer {
        /// Smallest accepted value.
        min: i64,
        /// Largest accepted value.
        max: i64,
    },
    /// A number of at least 0 and, if set, at most `max`.
    Number {
        /// Largest accepted value, if there is one.
        max: Option<i64>,
    },
    /// One of these labels, in any case; the label as written here is used.
    Choice(&'static [&'static str]),
    /// Free text (a number is taken as its text).
    Text,
}

/// How the pipeline uses a field (`docs/PIPELINE.md`, "Steps"): the one
/// place each column's role is declared. The pipeline's variable lists
/// derive from it, in field order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// A number column. One that is not required may be missing: it gets a
    /// missing indicator and median imputation.
    Numeric,
    /// A categorical variable; with `first_letter`, only the first letter of
    /// its value is kept (a cabin's deck).
    Categorical {
        /// Keep only the first letter.
        first_letter: bool,
    },
    /// A categorical variable derived from the field's text, named by the
    /// field's `feature` (the name's title); after the plain ones.
    Derived,
}

/// One input column and its rules.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Field {
    /// The dataset's column name.
    pub name: &'static str,
    /// What it holds.
    pub kind: Kind,
    /// Whether a value must be given (blank and `?` count as missing).
    pub required: bool,
    /// What it is, for people.
    pub description: &'static str,
    /// The feature its explanation is reported under: the derived feature
    /// for `name` (`title`), the field's own name otherwise.
    pub feature: &'static str,
    /// For an [`Kind::Integer`]: its values are classes, listed as choices.
    pub classes: bool,
    /// How the pipeline uses it.
    pub role: Role,
}

impl Field {
    const fn new(kind: Kind, description: &'static str) -> Self {
        Field {
            name: "",
            kind,
            required: false,
            description,
            feature: "",
            classes: false,
            role: match kind {
                Kind::Integer { .. } | Kind::Number { .. } => Role::Numeric,
                Kind::Choice(_) | Kind::Text => Role::Categorical {
                    first_letter: false,
                },
            },
        }
    }

    /// A whole number from `min` to `max`.
    pub const fn integer(min: i64, max: i64, description: &'static str) -> Self {
        Self::new(Kind::Integer { min, max }, description)
    }

    /// A number of at least 0 (and at most `max`, if set).
    pub const fn number(max: Option<i64>, description: &'static str) -> Self {
        Self::new(Kind::Number { max }, description)
    }

    /// One of `labels`, in any case.
    pub const fn choice(labels: &'static [&'static str], description: &'static str) -> Self {
        Self::new(Kind::Choice(labels), description)
    }

    /// Free text.
    pub const fn text(description: &'static str) -> Self {
        Self::new(Kind::Text, description)
    }

    /// The same field, required.
    pub const fn required(mut self) -> Self {
        self.required = true;
        self
    }

    /// The same field, its whole numbers listed as classes.
    pub const fn classes(mut self) -> Self {
        self.classes = true;
        self
    }

    /// The same field, used through a categorical variable derived from it
    /// and explained under that variable's name.
    pub const fn derived_as(mut self, feature: &'static str) -> Self {
        self.feature = feature;
        self.role = Role::Derived;
        self
    }

    /// The same categorical field, only its first letter kept.
    pub const fn first_letter(mut self) -> Self {
        self.role = Role::Categorical { first_letter: true };
        self
    }

    const fn named(mut self, name: &'static str) -> Self {
        self.name = name;
        if self.feature.is_empty() {
            self.feature = name;
        }
        self
    }

    /// What the field accepts, in words, for error messages.
    pub fn expected(&self) -> String {
        match self.kind {
            Kind::Integer { min, max } if self.classes => {
                or_list((min..=max).map(|v| v.to_string()).collect())
            }
            Kind::Integer { min, max } => format!("a whole number from {min} to {max}"),
            Kind::Number { max: Some(max) } => format!("a number from 0 to {max}"),
            Kind::Number { max: None } => "a number of at least 0".to_owned(),
            Kind::Choice(labels) => format!(
                "{} (any case)",
                or_list(labels.iter().map(|l| format!("{l:?}")).collect())
            ),
            Kind::Text => "text".to_owned(),
        }
    }

    /// Checks one raw value against the field's rules: the typed value, or a
    /// message a user can act on.
    #[inline(always)]
    pub fn check<'a>(&self, value: &'a FieldValue) -> Result<Checked<'a>, String> {
        let checked = read(self, value)?;
        if self.required && checked == Checked::Missing {
            return Err(format!("is required: {}", self.expected()));
        }
        Ok(checked)
    }
}

/// Text without its padding; `None` when that leaves nothing or `?`.
#[inline]
fn present(text: &str) -> Option<&str> {
    // padding is ASCII: trim bytes, not chars
    let padded = |b: &u8| PADDING.contains(&char::from(*b));
    let bytes = text.as_bytes();
    let start = bytes.iter().position(|b| !padded(b)).unwrap_or(bytes.len());
    let end = bytes
        .iter()
        .rposition(|b| !padded(b))
        .map_or(start, |i| i + 1);
    // both ends are ASCII, so char boundaries
    match &text[start..end] {
        "" | "?" => None,
        t => Some(t),
    }
}

fn describe(v: &FieldValue) -> String {
    match v {
        FieldValue::Missing => "nothing".into(),
        FieldValue::Number(n) => format!("the number {n}"),
        FieldValue::Text(t) => format!("{:?}", shorten(t)),
        FieldValue::Invalid(k) => (*k).into(),
    }
}

/// Reads `value` by `field`'s rules (not yet its `required` flag).
#[inline(always)]
fn read<'a>(field: &Field, value: &'a FieldValue) -> Result<Checked<'a>, String> {
    let wrong = || format!("must be {}, got {}", field.expected(), describe(value));
    let number = match (value, field.kind) {
        (FieldValue::Missing, _) => return Ok(Checked::Missing),
        (FieldValue::Invalid(_), _) => return Err(wrong()),
        (FieldValue::Text(t), kind) => {
            let Some(t) = present(t) else {
                return Ok(Checked::Missing);
            };
            match kind {
                Kind::Text => return Ok(Checked::Text(value_text(value))),
                Kind::Choice(labels) => {
                    // any case; a byte as written is the common case, so
                    // test it first
                    let same = |l: &&&'static str| {
                        l.len() == t.len()
                            && l.bytes()
                                .zip(t.bytes())
                                .all(|(a, b)| a == b || a.eq_ignore_ascii_case(&b))
                    };
                    return labels
                        .iter()
                        .find(same)
                        .map(|l| Checked::Label(l))
                        .ok_or_else(wrong);
                }
                Kind::Integer { .. } | Kind::Number { .. } => {
                    plain_decimal(t).ok_or_else(|| {
                        format!(
                            "must be {}, written as a plain decimal such as 29 or 29.5, got {}",
                            field.expected(),
                            describe(value)
                        )
                    })?
                }
            }
        }
        (FieldValue::Number(n), Kind::Text) => return Ok(Checked::Number(*n)),
        (FieldValue::Number(_), Kind::Choice(_)) => return Err(wrong()),
        (FieldValue::Number(n), _) => *n,
    };
    // `-0` is 0, so that both read alike everywhere
    let n = number + 0.0;
    let in_range = match field.kind {
        // whole when the cast back is exact (in range, so the cast cannot
        // saturate): two instructions, where `fract` calls libm's `trunc`
        Kind::Integer { min, max } => n >= min as f64 && n <= max as f64 && (n as i64) as f64 == n,
        Kind::Number { max } => n >= 0.0 && max.is_none_or(|m| n <= m as f64),
        Kind::Choice(_) | Kind::Text => false,
    };
    if n.is_finite() && in_range {
        Ok(Checked::Number(n))
    } else {
        Err(format!(
            "must be {}, got {}",
            field.expected(),
            fmt_number(n)
        ))
    }
}

fn value_text(v: &FieldValue) -> &str {
    match v {
        FieldValue::Text(t) => t,
        _ => "",
    }
}

fn fmt_number(n: f64) -> String {
    if n.is_finite() {
        n.to_string()
    } else {
        format!("{n} (not a finite number)")
    }
}

/// `a, b or c`.
fn or_list(items: Vec<String>) -> String {
    match items.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{} or {last}", rest.join(", ")),
        _ => items.concat(),
    }
}

/// Declares the feature fields once: the [`Passenger`] struct and [`FIELDS`].
macro_rules! fields {
    ($( $(#[$doc:meta])* $name:ident: $field:expr, )*) => {
        /// One passenger, with the dataset's column names as keys.
        ///
        /// Build one from JSON (`serde_json`), from CSV
        /// ([`read_passengers_csv`](crate::csv::read_passengers_csv)), or directly:
        /// every field is a raw [`FieldValue`], checked when predicted.
        /// The dataset's other columns ([`column_names`](crate::schema::column_names) lists them after the fields) are accepted and
        /// ignored; any other key is an error naming it, and so is a key
        /// given twice.
        ///
        /// ```
        /// use classification_model::{FieldValue, Passenger};
        ///
        /// let p: Passenger = serde_json::from_str(
        ///     r#"{"pclass": 1, "sex": "female", "age": "29", "sibsp": 0, "parch": 0,
        ///         "fare": 211.3375, "cabin": "B5", "embarked": "S", "ticket": "24160"}"#,
        /// )?;
        /// assert_eq!(p.age, FieldValue::Text("29".into())); // read when checked
        /// assert_eq!(p.fare, FieldValue::Number(211.3375));
        /// assert!(serde_json::from_str::<Passenger>(r#"{"Age": 3}"#).is_err());
        /// # Ok::<(), serde_json::Error>(())
        /// ```
        #[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
        pub struct Passenger {
            $( $(#[$doc])* pub $name: FieldValue, )*
        }

        /// The feature fields, in the dataset's column order.
        pub static FIELDS: [Field; N_FIELDS] = TABLE;

        /// [`FIELDS`], for constants derived from it.
        pub(crate) const TABLE: [Field; N_FIELDS] = [ $( $field.named(stringify!($name)), )* ];

        impl Passenger {
            /// The raw values, in [`FIELDS`] order.
            pub fn values(&self) -> [&FieldValue; N_FIELDS] {
                [ $( &self.$name, )* ]
            }

            /// The raw value of field number `index` of [`FIELDS`], to fill
            /// (as column-wise readers do); `None` past the last field.
            pub fn value_mut(&mut self, index: usize) -> Option<&mut FieldValue> {
                // one comparison per field, not an array of them all per call
                let mut i = 0;
                $(
                    if index == i {
                        return Some(&mut self.$name);
                    }
                    i += 1;
                )*
                let _ = i;
                None
            }
        }
    };
}

/// Number of feature fields.
pub const N_FIELDS: usize = 9;

fields! {
    /// Ticket class: 1, 2 or 3.
    pclass: Field::integer(1, 3, "ticket class: 1 (first), 2 or 3").classes().required(),
    /// Full name as in the dataset (`"Allen, Miss. Elisabeth Walton"`); optional.
    name: Field::text("full name; only its title (Mr, Mrs, Miss, Master or another) is used")
        .derived_as("title"),
    /// `male` or `female`, any case.
    sex: Field::choice(&["male", "female"], "sex").required(),
    /// Age in years, 0 to 120; optional.
    age: Field::number(Some(120), "age in years"),
    /// Siblings and spouses aboard, 0 to 20.
    sibsp: Field::integer(0, 20, "siblings and spouses aboard").required(),
    /// Parents and children aboard, 0 to 20.
    parch: Field::integer(0, 20, "parents and children aboard").required(),
    /// Fare paid, at least 0; optional.
    fare: Field::number(None, "fare paid"),
    /// Cabin (`"C22 C26"`); optional.
    cabin: Field::text("cabin; only the first letter of its first cabin is used").first_letter(),
    /// Port of embarkation: `C`, `Q` or `S`, any case; optional.
    embarked: Field::choice(&["C", "Q", "S"], "port of embarkation: Cherbourg, Queenstown or Southampton"),
}

/// The dataset's other columns: accepted as input and ignored.
pub const IGNORED_COLUMNS: [&str; 5] = ["survived", "ticket", "boat", "body", "home.dest"];

/// The label column of a training dataset.
#[cfg(any(test, feature = "train"))]
pub const LABEL: Field = Field::integer(0, 1, "1 if the passenger survived").named("survived");

/// A dataset column: a feature field of [`FIELDS`] or one of the
/// dataset's other columns. Only [`Column::of`] makes one, so every column is
/// a real one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Column(Which);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Which {
    Feature(usize),
    Ignored(usize),
}

impl Column {
    /// The column a key names; `None` if it is no dataset column. Keys are
    /// case-sensitive, as in the dataset.
    pub fn of(key: &str) -> Option<Column> {
        if let Some(i) = FIELDS.iter().position(|f| f.name == key) {
            return Some(Column(Which::Feature(i)));
        }
        IGNORED_COLUMNS
            .iter()
            .position(|c| *c == key)
            .map(|i| Column(Which::Ignored(i)))
    }

    /// A bit for the set of keys seen, to find duplicates.
    pub(crate) fn bit(self) -> u32 {
        1 << self.position()
    }

    /// The column's name.
    pub fn name(self) -> &'static str {
        match self.0 {
            Which::Feature(i) => FIELDS[i].name,
            Which::Ignored(i) => IGNORED_COLUMNS[i],
        }
    }

    /// Its position in [`column_names`] (the feature fields first, in
    /// [`FIELDS`] order): under 32, so a `u32` can hold a set of columns.
    pub fn position(self) -> usize {
        match self.0 {
            Which::Feature(i) => i,
            Which::Ignored(i) => N_FIELDS + i,
        }
    }

    /// Its index in [`FIELDS`], for a feature field; `None` for an ignored
    /// column.
    pub fn field_index(self) -> Option<usize> {
        match self.0 {
            Which::Feature(i) => Some(i),
            Which::Ignored(_) => None,
        }
    }

    /// Its field, for a feature field.
    pub fn field(self) -> Option<&'static Field> {
        self.field_index().map(|i| &FIELDS[i])
    }
}

/// Every column name a record may carry: the features, then the ignored ones.
pub fn column_names() -> impl Iterator<Item = &'static str> {
    FIELDS.iter().map(|f| f.name).chain(IGNORED_COLUMNS)
}

/// The features explanations are reported under, in [`FIELDS`] order.
pub fn features() -> [&'static str; N_FIELDS] {
    std::array::from_fn(|i| FIELDS[i].feature)
}

/// The index in [`FIELDS`] of the field named `name`; usable in constants,
/// where a wrong name fails the build.
pub(crate) const fn index_of(name: &str) -> usize {
    let mut i = 0;
    while i < TABLE.len() {
        if same(TABLE[i].name.as_bytes(), name.as_bytes()) {
            return i;
        }
        i += 1;
    }
    panic!("no such field")
}

/// A set of fields by role.
#[derive(Clone, Copy)]
enum Pick {
    Numeric,
    MayBeMissing,
    Plain,
    Derived,
}

const fn picks(f: &Field, pick: Pick) -> bool {
    match (pick, f.role) {
        (Pick::Numeric, Role::Numeric) => true,
        (Pick::MayBeMissing, Role::Numeric) => !f.required,
        (Pick::Plain, Role::Categorical { .. }) => true,
        (Pick::Derived, Role::Derived) => true,
        _ => false,
    }
}

/// How many fields `pick` picks.
const fn count(pick: Pick) -> usize {
    let (mut n, mut i) = (0, 0);
    while i < N_FIELDS {
        if picks(&TABLE[i], pick) {
            n += 1;
        }
        i += 1;
    }
    n
}

/// The indices in [`FIELDS`] of the fields `pick` picks, in order.
const fn indices<const N: usize>(pick: Pick) -> [usize; N] {
    let mut out = [0; N];
    let (mut k, mut i) = (0, 0);
    while i < N_FIELDS {
        if picks(&TABLE[i], pick) {
            out[k] = i;
            k += 1;
        }
        i += 1;
    }
    assert!(k == N, "the count and the fields disagree");
    out
}

/// Numeric fields.
pub(crate) const N_NUMERIC: usize = count(Pick::Numeric);
/// Numeric fields that may be missing.
pub(crate) const N_MISSING: usize = count(Pick::MayBeMissing);
/// Categorical variables: the plain ones, then the derived ones.
pub(crate) const N_CATEGORICAL: usize = count(Pick::Plain) + count(Pick::Derived);

/// The numeric fields, in field order.
pub(crate) const NUMERIC_FIELDS: [usize; N_NUMERIC] = indices(Pick::Numeric);
/// The numeric fields that may be missing, in field order.
pub(crate) const MISSING_FIELDS: [usize; N_MISSING] = indices(Pick::MayBeMissing);
/// The fields behind the categorical variables: the plain ones in field
/// order, then the derived ones.
pub(crate) const CATEGORICAL_FIELDS: [usize; N_CATEGORICAL] = {
    let plain: [usize; count(Pick::Plain)] = indices(Pick::Plain);
    let more: [usize; count(Pick::Derived)] = indices(Pick::Derived);
    let mut out = [0; N_CATEGORICAL];
    let mut k = 0;
    while k < plain.len() {
        out[k] = plain[k];
        k += 1;
    }
    while k < N_CATEGORICAL {
        out[k] = more[k - plain.len()];
        k += 1;
    }
    out
};

/// The features of `fields`, by their index.
pub(crate) const fn feature_names<const N: usize>(fields: [usize; N]) -> [&'static str; N] {
    let mut out = [""; N];
    let mut k = 0;
    while k < N {
        out[k] = TABLE[fields[k]].feature;
        k += 1;
    }
    out
}

/// Per categorical variable, whether only its first letter is kept.
pub(crate) const FIRST_LETTER: [bool; N_CATEGORICAL] = {
    let mut out = [false; N_CATEGORICAL];
    let mut k = 0;
    while k < N_CATEGORICAL {
        out[k] = matches!(
            TABLE[CATEGORICAL_FIELDS[k]].role,
            Role::Categorical { first_letter: true }
        );
        k += 1;
    }
    out
};

const fn same(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

/// What one input field accepts, as `/model` lists it.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FeatureSpec {
    /// The dataset's column name.
    pub name: String,
    /// `integer`, `number` or `string`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Whether a value must be given.
    pub required: bool,
    /// The accepted values where there is a fixed set (strings match in any case).
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Vec<serde_json::Value>>))]
    pub allowed_values: Option<Vec<serde_json::Value>>,
    /// Smallest accepted number.
    pub minimum: Option<f64>,
    /// Largest accepted number.
    pub maximum: Option<f64>,
    /// What it is.
    pub description: String,
    /// The feature its explanation is reported under.
    pub explained_as: String,
}

impl From<&Field> for FeatureSpec {
    fn from(f: &Field) -> Self {
        let (kind, allowed, minimum, maximum) = match f.kind {
            Kind::Integer { min, max } => (
                "integer",
                f.classes
                    .then(|| (min..=max).map(serde_json::Value::from).collect()),
                Some(min as f64),
                Some(max as f64),
            ),
            Kind::Number { max } => ("number", None, Some(0.0), max.map(|m| m as f64)),
            Kind::Choice(labels) => (
                "string",
                Some(labels.iter().map(|l| serde_json::Value::from(*l)).collect()),
                None,
                None,
            ),
            Kind::Text => ("string", None, None, None),
        };
        FeatureSpec {
            name: f.name.to_owned(),
            kind: kind.to_owned(),
            required: f.required,
            allowed_values: allowed,
            minimum,
            maximum,
            description: f.description.to_owned(),
            explained_as: f.feature.to_owned(),
        }
    }
}

/// Every feature field as `/model` lists it.
pub fn feature_specs() -> Vec<FeatureSpec> {
    FIELDS.iter().map(FeatureSpec::from).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(name: &str) -> &'static Field {
        &FIELDS[index_of(name)]
    }

    fn number(name: &str, text: &str) -> Option<f64> {
        match field(name).check(&FieldValue::from(text)) {
            Ok(Checked::Number(n)) => Some(n),
            _ => None,
        }
    }

    #[test]
    fn numbers_follow_the_text_rules() {
        assert_eq!(number("pclass", " 01 "), Some(1.0));
        assert_eq!(number("pclass", "\t+3.0"), Some(3.0));
        assert_eq!(number("pclass", "1e0"), None);
        assert_eq!(number("sibsp", "-0"), Some(0.0));
        assert!(number("sibsp", "-0").unwrap().is_sign_positive());
        assert_eq!(number("sibsp", "2.5"), None);
        assert_eq!(number("age", "120"), Some(120.0));
        assert_eq!(number("age", "120.0001"), None);
        assert_eq!(number("fare", "1e400"), None);
        assert_eq!(
            field("age").check(&FieldValue::from(" ? ")),
            Ok(Checked::Missing)
        );
        assert!(field("pclass").check(&FieldValue::from("")).is_err());
    }

    #[test]
    fn whole_numbers_are_exactly_whole_and_in_range() {
        let typed = |name: &str, n: f64| match field(name).check(&FieldValue::Number(n)) {
            Ok(Checked::Number(n)) => Some(n),
            _ => None,
        };
        let Kind::Integer { max, .. } = field("sibsp").kind else {
            panic!("sibsp is a whole number")
        };
        assert_eq!(typed("sibsp", max as f64), Some(max as f64));
        for bad in [
            f64::NAN,
            f64::INFINITY,
            -1.0,
            max as f64 + 1.0,
            0.5,
            1.0 - f64::EPSILON / 2.0,
            1.0 + f64::EPSILON,
            -f64::MIN_POSITIVE,
            f64::MAX,
        ] {
            assert_eq!(typed("sibsp", bad), None, "{bad}");
        }
        assert_eq!(typed("pclass", 0.0), None);
        assert_eq!(typed("pclass", 3.0), Some(3.0));
    }

    #[test]
    fn choices_and_text() {
        assert_eq!(
            field("sex").check(&FieldValue::from(" FeMale ")),
            Ok(Checked::Label("female"))
        );
        assert!(field("sex").check(&FieldValue::Number(1.0)).is_err());
        assert_eq!(
            field("embarked").check(&FieldValue::from("")),
            Ok(Checked::Missing)
        );
        assert_eq!(
            field("cabin").check(&FieldValue::Number(12.0)),
            Ok(Checked::Number(12.0))
        );
        assert_eq!(
            field("name").check(&FieldValue::from("?")),
            Ok(Checked::Missing)
        );
        let e = field("age")
            .check(&FieldValue::Invalid("a boolean"))
            .unwrap_err();
        assert_eq!(e, "must be a number from 0 to 120, got a boolean");
    }

    #[test]
    fn columns_are_unique_and_fit_the_duplicate_bitset() {
        let names: Vec<&str> = column_names().collect();
        let mut sorted = names.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted.len(), names.len());
        assert!(names.len() <= 32);
        for name in names {
            assert_eq!(Column::of(name).map(Column::name), Some(name));
        }
        assert_eq!(Column::of("Age"), None);
    }

    #[test]
    fn features_rename_only_name() {
        assert_eq!(
            features(),
            [
                "pclass", "title", "sex", "age", "sibsp", "parch", "fare", "cabin", "embarked"
            ]
        );
    }

    #[test]
    fn expected_texts() {
        assert_eq!(FIELDS[0].expected(), "1, 2 or 3");
        assert_eq!(FIELDS[4].expected(), "a whole number from 0 to 20");
        assert_eq!(FIELDS[2].expected(), "\"male\" or \"female\" (any case)");
        assert_eq!(FIELDS[6].expected(), "a number of at least 0");
    }
}
