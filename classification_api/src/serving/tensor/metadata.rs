//! The metadata of the inference protocol (V2), whichever protocol asks:
//! the server's, and a model's inputs and outputs as tensors.

use classification_model::{
    Model,
    schema::{FIELDS, Kind},
};
use serde::Serialize;
use utoipa::ToSchema;

use crate::serving::models::Models;
use crate::serving::tensor::datatype::Datatype;
use crate::serving::tensor::outputs::{OUTPUTS, output_names};
use crate::serving::versions::{VersionInfo, versions};

/// `GET /v2`.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize, ToSchema)]
pub struct ServerMetadata {
    /// The server's name.
    pub name: String,
    /// The API's version.
    pub version: String,
    /// Protocol extensions supported: `binary_tensor_data`.
    pub extensions: Vec<String>,
}

/// The server's name in its metadata.
pub const SERVER_NAME: &str = "classification_api";

/// The server's metadata (`GET /v2`, gRPC's `ServerMetadata`).
pub fn server_metadata() -> ServerMetadata {
    ServerMetadata {
        name: SERVER_NAME.into(),
        version: env!("CARGO_PKG_VERSION").into(),
        extensions: vec!["binary_tensor_data".into()],
    }
}

/// An input or output as model metadata lists it.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize, ToSchema)]
pub struct TensorMetadata {
    /// Its name.
    pub name: String,
    /// Its datatype (inputs also take the others of their kind: see the docs).
    pub datatype: String,
    /// `[-1]`: any number of rows.
    pub shape: Vec<i64>,
}

/// `GET /v2/models/{name}[/versions/{version}]`.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize, ToSchema)]
pub struct ModelMetadata {
    /// The model's name.
    pub name: String,
    /// Every version served, oldest first.
    pub versions: Vec<String>,
    /// Each version's role, source, training data and metrics (an addition
    /// to the protocol's fields).
    pub version_details: Vec<VersionInfo>,
    /// What runs it.
    pub platform: String,
    /// One input per dataset column.
    pub inputs: Vec<TensorMetadata>,
    /// Every output (the explanations only with `explain`).
    pub outputs: Vec<TensorMetadata>,
}

/// The metadata of `model`, among `models`.
pub fn model_metadata(model: &Model, models: &Models) -> ModelMetadata {
    let tensor = |name: &str, datatype: Datatype| TensorMetadata {
        name: name.to_owned(),
        datatype: datatype.name().to_owned(),
        shape: vec![-1],
    };
    ModelMetadata {
        name: model.name().to_owned(),
        versions: models.names(),
        version_details: versions(models),
        platform: "linfa-logistic".to_owned(),
        inputs: FIELDS
            .iter()
            .map(|f| {
                let datatype = match f.kind {
                    Kind::Integer { .. } => Datatype::Int64,
                    Kind::Number { .. } => Datatype::Fp64,
                    Kind::Choice(_) | Kind::Text => Datatype::Bytes,
                };
                tensor(f.name, datatype)
            })
            .collect(),
        outputs: output_names()
            .iter()
            .map(|name| {
                let datatype = OUTPUTS
                    .iter()
                    .find(|(n, _)| n == name)
                    .map_or(Datatype::Fp64, |(_, d)| *d);
                tensor(name, datatype)
            })
            .collect(),
    }
}
