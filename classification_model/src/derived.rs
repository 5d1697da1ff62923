//! Derived features: optional columns computed from one record alone (so
//! serving computes them exactly as training did), each behind a switch of
//! the pipeline's configuration (`docs/PIPELINE.md`, "Derived features").
//! With every switch off the pipeline is the course's, column for column.

use serde::{Deserialize, Serialize};

use crate::data_preparation::Record;

/// The switches. Serialised only when one is on, so that configurations
/// and artifacts without derived features keep their bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DerivedFeatures {
    /// The fare column holds `ln(1 + fare)` instead of the fare.
    pub log_fare: bool,
    /// Adds `fare_per_person`: `ln(1 + fare / family size)`.
    pub fare_per_person: bool,
    /// Adds `alone` (family size 1) and `large_family` (5 or more).
    pub family_group: bool,
    /// Adds `female_class_1`, `female_class_2`, `female_class_3`: 1 for a
    /// woman in that class.
    pub sex_class: bool,
    /// Adds `child`: 1 when the age is known and under 14.
    pub child: bool,
}

/// Most columns one derived feature adds.
pub(crate) const MAX_COLUMNS: usize = 3;

/// A derived feature that adds columns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Derived {
    /// See [`DerivedFeatures::fare_per_person`].
    FarePerPerson,
    /// See [`DerivedFeatures::family_group`].
    FamilyGroup,
    /// See [`DerivedFeatures::sex_class`].
    SexClass,
    /// See [`DerivedFeatures::child`].
    Child,
}

/// The switches' names, in [`DerivedFeatures::set`] order.
pub const SWITCHES: [&str; 5] = [
    "log_fare",
    "fare_per_person",
    "family_group",
    "sex_class",
    "child",
];

impl DerivedFeatures {
    /// Whether every switch is off (the course's pipeline).
    pub fn is_none(&self) -> bool {
        *self == Self::default()
    }

    /// The switches, in [`SWITCHES`] order.
    pub fn set(&self) -> [bool; 5] {
        [
            self.log_fare,
            self.fare_per_person,
            self.family_group,
            self.sex_class,
            self.child,
        ]
    }

    /// The configuration with the switches given in [`SWITCHES`] order.
    pub fn from_set(s: [bool; 5]) -> Self {
        let [log_fare, fare_per_person, family_group, sex_class, child] = s;
        Self {
            log_fare,
            fare_per_person,
            family_group,
            sex_class,
            child,
        }
    }

    /// The names of the switches on, e.g. `log_fare, family_group`; `none`.
    pub fn describe(&self) -> String {
        let on: Vec<&str> = SWITCHES
            .iter()
            .zip(self.set())
            .filter(|(_, on)| *on)
            .map(|(name, _)| *name)
            .collect();
        if on.is_empty() {
            "none".into()
        } else {
            on.join(", ")
        }
    }

    /// The derived features that add columns, in column order.
    pub fn added(&self) -> impl Iterator<Item = Derived> + '_ {
        Derived::ALL.into_iter().filter(|d| self.adds(*d))
    }

    /// Whether `d`'s switch is on.
    pub(crate) fn adds(&self, d: Derived) -> bool {
        match d {
            Derived::FarePerPerson => self.fare_per_person,
            Derived::FamilyGroup => self.family_group,
            Derived::SexClass => self.sex_class,
            Derived::Child => self.child,
        }
    }

    /// The added columns' names, in order.
    pub fn columns(&self) -> Vec<&'static str> {
        self.added()
            .flat_map(|d| d.columns().iter().copied())
            .collect()
    }

    /// The fare column's value for an imputed fare.
    pub fn fare(&self, fare: f64) -> f64 {
        if self.log_fare { fare.ln_1p() } else { fare }
    }

    /// The fare column's name.
    pub fn fare_column(&self) -> &'static str {
        if self.log_fare { "log_fare" } else { "fare" }
    }

    /// Appends the added columns' values for `r` (its fare imputed) to `out`.
    pub fn values(&self, r: &Record<'_>, fare: f64, out: &mut Vec<f64>) {
        for d in self.added() {
            let (values, n) = d.values(r, fare);
            out.extend_from_slice(&values[..n]);
        }
    }
}

impl Derived {
    /// Every derived feature that adds columns, in column order.
    pub(crate) const ALL: [Derived; 4] = [
        Derived::FarePerPerson,
        Derived::FamilyGroup,
        Derived::SexClass,
        Derived::Child,
    ];

    /// The columns it adds.
    pub fn columns(self) -> &'static [&'static str] {
        match self {
            Derived::FarePerPerson => &["fare_per_person"],
            Derived::FamilyGroup => &["alone", "large_family"],
            Derived::SexClass => &["female_class_1", "female_class_2", "female_class_3"],
            Derived::Child => &["child"],
        }
    }

    /// The input features its columns are computed from: an explanation
    /// shares a column's contribution equally among them.
    pub fn features(self) -> &'static [&'static str] {
        match self {
            Derived::FarePerPerson => &["fare", "sibsp", "parch"],
            Derived::FamilyGroup => &["sibsp", "parch"],
            Derived::SexClass => &["sex", "pclass"],
            Derived::Child => &["age"],
        }
    }

    /// Its columns' values for `r` (its fare imputed): the first `n` of
    /// the array (no allocation: the scorer calls this per record).
    pub(crate) fn values(self, r: &Record<'_>, fare: f64) -> ([f64; MAX_COLUMNS], usize) {
        let family = r.sibsp + r.parch + 1.0;
        let flag = |b: bool| if b { 1.0 } else { 0.0 };
        match self {
            Derived::FarePerPerson => ([(fare / family).ln_1p(), 0.0, 0.0], 1),
            Derived::FamilyGroup => ([flag(family == 1.0), flag(family >= 5.0), 0.0], 2),
            Derived::SexClass => {
                let female = r.sex == Some("female");
                (
                    [1.0, 2.0, 3.0].map(|class| flag(female && r.pclass == class)),
                    3,
                )
            }
            Derived::Child => ([flag(r.age.is_some_and(|a| a < 14.0)), 0.0, 0.0], 1),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(
        sex: &'static str,
        pclass: f64,
        age: Option<f64>,
        sibsp: f64,
        parch: f64,
    ) -> Record<'static> {
        Record {
            pclass,
            sex: Some(sex),
            age,
            sibsp,
            parch,
            fare: Some(30.0),
            cabin: None,
            embarked: None,
            title: None,
        }
    }

    #[test]
    fn all_off_is_the_course_pipeline_and_serialises_to_nothing() {
        let none = DerivedFeatures::default();
        assert!(none.is_none());
        assert_eq!(none.columns(), Vec::<&str>::new());
        assert_eq!(none.fare(30.0), 30.0);
        assert_eq!(none.describe(), "none");
    }

    #[test]
    fn each_switch_adds_its_columns_from_the_record_alone() {
        let all = DerivedFeatures::from_set([true; 5]);
        assert_eq!(all.set(), [true; 5]);
        assert_eq!(
            all.columns(),
            [
                "fare_per_person",
                "alone",
                "large_family",
                "female_class_1",
                "female_class_2",
                "female_class_3",
                "child"
            ]
        );
        assert_eq!(all.fare_column(), "log_fare");
        assert_eq!(all.fare(30.0), 31f64.ln());
        let mut out = Vec::new();
        all.values(&record("female", 2.0, Some(9.0), 3.0, 1.0), 30.0, &mut out);
        assert_eq!(out, [(6f64).ln_1p(), 0.0, 1.0, 0.0, 1.0, 0.0, 1.0]);
        out.clear();
        all.values(&record("male", 1.0, None, 0.0, 0.0), 30.0, &mut out);
        assert_eq!(out, [(30f64).ln_1p(), 1.0, 0.0, 0.0, 0.0, 0.0, 0.0]);
        assert_eq!(all.describe(), SWITCHES.join(", "));
    }
}
