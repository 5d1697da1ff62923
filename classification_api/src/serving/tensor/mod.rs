//! The tensor model of the Open Inference Protocol (V2), which its REST
//! (`v2`) and gRPC (`grpc`) adapters share: datatypes and their encodings
//! ([`datatype`]), input tensors read into a batch ([`inputs`]), the outputs
//! an answer carries ([`outputs`]) and the metadata ([`metadata`]).

pub mod datatype;
pub mod inputs;
pub mod metadata;
pub mod outputs;
