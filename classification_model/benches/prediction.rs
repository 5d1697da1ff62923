//! In-process benchmarks: prediction, artifact loading, training.
//!
//! `cargo bench -p classification_model --bench prediction`

use std::hint::black_box;

use classification_model::train::read_dataset;
use classification_model::{
    Model, Passenger, artifact::TrainingConfig, make_prediction, model_version, train::train,
};
use criterion::{Criterion, criterion_group, criterion_main};

#[path = "support/typed_json.rs"]
mod typed_json;

const DATA: &[u8] = include_bytes!("../datasets/titanic.csv");

fn prediction(c: &mut Criterion) {
    let passengers = read_dataset(DATA).expect("dataset").passengers().to_vec();
    let one: Vec<Passenger> = passengers[..1].to_vec();
    make_prediction(&one).expect("warm up");
    c.bench_function("make_prediction/1 passenger", |b| {
        b.iter(|| make_prediction(black_box(&one)).expect("valid"))
    });
    c.bench_function("make_prediction/1309 passengers", |b| {
        b.iter(|| make_prediction(black_box(&passengers)).expect("valid"))
    });
}

fn json_typed(c: &mut Criterion) {
    let all = typed_json::passengers();
    let one = all[..1].to_vec();
    c.bench_function("json-typed/make_prediction/1 passenger", |b| {
        b.iter(|| make_prediction(black_box(&one)).expect("valid"))
    });
    c.bench_function("json-typed/make_prediction/1309 passengers", |b| {
        b.iter(|| make_prediction(black_box(&all)).expect("valid"))
    });
}

fn loading(c: &mut Criterion) {
    c.bench_function("load embedded artifact", |b| {
        b.iter(|| Model::load_embedded().expect("embedded"))
    });
}

fn training(c: &mut Criterion) {
    let version = semver::Version::parse(model_version()).expect("VERSION");
    let config = TrainingConfig::default();
    c.bench_function("train (read + prepare + split + fit + score)", |b| {
        b.iter(|| train(black_box(DATA), &config, &version).expect("trains"))
    });
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(std::time::Duration::from_millis(500))
        .measurement_time(std::time::Duration::from_secs(2));
    targets = prediction, json_typed, loading, training
}
criterion_main!(benches);
