//! Class weights, cross-validation and the tuned preset (feature `train`).
#![cfg(feature = "train")]

use classification_model::{
    artifact::{ClassWeight, TrainingConfig},
    train::{Tuning, train},
};
use serde_json::Value;

const DATA: &[u8] = include_bytes!("../datasets/titanic.csv");

fn fitted(config: &TrainingConfig) -> Value {
    let version = semver::Version::new(9, 0, 0);
    serde_json::from_str(&train(DATA, config, &version).unwrap().to_json().unwrap()).unwrap()
}

#[test]
fn balanced_weights_are_fitted_to_the_weighted_optimum() {
    let mut config = TrainingConfig::default();
    config.pipeline.c = 0.1;
    config.folds = 0;
    let plain = fitted(&config);
    config.pipeline.class_weight = ClassWeight::Balanced;
    let balanced = fitted(&config);
    let classifier = &balanced["pipeline"]["classifier"];
    // the gradient of the weighted objective, at rounding level
    assert!(
        classifier["gradient_max_abs"].as_f64().unwrap() < 1e-10,
        "{classifier}"
    );
    assert_ne!(
        classifier["intercept"],
        plain["pipeline"]["classifier"]["intercept"]
    );
    // more weight on the rarer class (survivors) raises the intercept
    assert!(
        classifier["intercept"].as_f64().unwrap()
            > plain["pipeline"]["classifier"]["intercept"]
                .as_f64()
                .unwrap()
    );
    assert_eq!(balanced["metrics"]["cross_validation"], Value::Null);
}

#[test]
fn the_committed_artifact_carries_its_cross_validation() {
    let artifact = classification_model::Model::embedded().unwrap().artifact();
    let cv = artifact.metrics().cross_validation.unwrap();
    assert_eq!(cv.folds, 5);
    assert!(cv.roc_auc.mean > 0.8 && cv.roc_auc.sd > 0.0);
    let test = artifact.metrics().test.unwrap();
    assert!(test.log_loss > 0.0 && test.brier > 0.0 && test.brier < 0.25);
}

#[test]
fn the_tuned_preset_was_chosen_by_cross_validation_alone() {
    let text = include_str!("../presets/tuned.json");
    let tuning: Tuning = serde_json::from_str(text).unwrap();
    let best = tuning
        .candidates
        .iter()
        .map(|c| c.cross_validation.roc_auc.mean)
        .fold(f64::MIN, f64::max);
    let chosen = &tuning.candidates[tuning.chosen];
    assert_eq!(chosen.cross_validation.roc_auc.mean, best);
    assert_eq!(tuning.config.pipeline.c, chosen.c);
    assert_eq!(tuning.config.pipeline.class_weight, chosen.class_weight);
    assert_eq!(tuning.config.pipeline.derived, chosen.derived);
    // the course split: the 262 test rows were held out
    assert_eq!((tuning.config.test_size, tuning.config.seed), (0.2, 0));
    assert_eq!(tuning.rows, 1047);
    // forward selection over the 5 switches, the 26-point grid for each set:
    // none, then 5 sets of one, then one set bigger per round while it helps
    let per_set = classification_model::train::C_GRID.len()
        * classification_model::train::CLASS_WEIGHTS.len();
    assert_eq!(per_set, 26);
    assert_eq!(tuning.candidates.len() % per_set, 0);
    let sets: Vec<_> = tuning
        .candidates
        .chunks(per_set)
        .map(|grid| {
            assert!(grid.iter().all(|c| c.derived == grid[0].derived));
            grid[0].derived
        })
        .collect();
    assert!(sets[0].is_none());
    assert!(
        sets[1..6]
            .iter()
            .all(|s| s.set().iter().filter(|on| **on).count() == 1)
    );
    let switches_on = chosen.derived.set().iter().filter(|on| **on).count();
    // every round tries each switch not yet on; the last round found no gain
    let tried: usize = (0..=switches_on.min(4)).map(|k| 5 - k).sum::<usize>() + 1;
    assert_eq!(sets.len(), tried, "{sets:?}");
}
