//! The dataset as JSON records with numbers as JSON numbers, read into
//! `Passenger`s: the same input for every build compared (it uses only
//! `Passenger`'s serde form, which older builds share).

use classification_model::Passenger;

/// Every dataset row, typed.
pub fn passengers() -> Vec<Passenger> {
    let text = include_str!("../../datasets/titanic.csv");
    let mut reader = csv::ReaderBuilder::new().from_reader(text.as_bytes());
    let header = reader.headers().expect("header").clone();
    let mut records = Vec::new();
    for r in reader.records() {
        let r = r.expect("record");
        let mut map = serde_json::Map::new();
        for (k, v) in header.iter().zip(r.iter()) {
            let value = match v.parse::<f64>() {
                Ok(n) if !["name", "ticket", "cabin", "home.dest"].contains(&k) => {
                    serde_json::json!(n)
                }
                _ if v == "?" => serde_json::Value::Null,
                _ => serde_json::json!(v),
            };
            map.insert(k.to_owned(), value);
        }
        records.push(serde_json::Value::Object(map));
    }
    serde_json::from_value(serde_json::Value::Array(records)).expect("passengers")
}
