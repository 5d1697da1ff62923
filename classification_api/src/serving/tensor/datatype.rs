//! Tensors of the Open Inference Protocol (V2): the datatypes this service
//! reads and writes, their elements as JSON, and Triton's binary tensor
//! encoding (little-endian, row-major; `BYTES` elements each prefixed with
//! a 4-byte length).

use std::fmt;

use classification_model::FieldValue;
use serde::de::{self, Deserializer, SeqAccess, Visitor};

/// A tensor datatype this service reads or writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Datatype {
    /// Text (UTF-8).
    Bytes,
    /// 32-bit integers.
    Int32,
    /// 64-bit integers.
    Int64,
    /// 32-bit floats.
    Fp32,
    /// 64-bit floats.
    Fp64,
}

/// The datatypes inputs may have, as an error message lists them.
pub const INPUT_DATATYPES: &str = "BYTES, INT64, INT32, FP64 or FP32";

impl Datatype {
    /// The datatype a protocol name gives (names are upper case).
    pub fn parse(name: &str) -> Option<Self> {
        Some(match name {
            "BYTES" => Datatype::Bytes,
            "INT32" => Datatype::Int32,
            "INT64" => Datatype::Int64,
            "FP32" => Datatype::Fp32,
            "FP64" => Datatype::Fp64,
            _ => return None,
        })
    }

    /// The protocol's name for it.
    pub fn name(self) -> &'static str {
        match self {
            Datatype::Bytes => "BYTES",
            Datatype::Int32 => "INT32",
            Datatype::Int64 => "INT64",
            Datatype::Fp32 => "FP32",
            Datatype::Fp64 => "FP64",
        }
    }

    /// Bytes per element in binary form; `None` for `BYTES`, whose elements
    /// carry their own lengths.
    fn width(self) -> Option<usize> {
        match self {
            Datatype::Bytes => None,
            Datatype::Int32 | Datatype::Fp32 => Some(4),
            Datatype::Int64 | Datatype::Fp64 => Some(8),
        }
    }

    /// What the JSON elements of this datatype must be, for error messages.
    fn expected(self) -> &'static str {
        match self {
            Datatype::Bytes => "strings or null",
            Datatype::Int32 => "whole numbers that fit 32 bits, or null",
            Datatype::Int64 => "whole numbers that fit 64 bits, or null",
            Datatype::Fp32 | Datatype::Fp64 => "numbers or null",
        }
    }
}

/// One element of a tensor's JSON `data`, as written.
#[derive(Debug, Clone, PartialEq)]
pub enum Element {
    /// `null`.
    Null,
    /// A whole number.
    Int(i128),
    /// A number with a fraction or an exponent.
    Float(f64),
    /// A string.
    Text(String),
    /// Something else (a boolean or an object): its kind.
    Other(&'static str),
}

/// A tensor's JSON `data`: nested arrays are read row-major and flattened,
/// as the protocol allows either form.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Elements(pub Vec<Element>);

impl<'de> serde::Deserialize<'de> for Elements {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let mut out = Vec::new();
        d.deserialize_seq(Flatten(&mut out))?;
        Ok(Elements(out))
    }
}

/// Appends an array's elements, and those of arrays within it, to a vector.
struct Flatten<'a>(&'a mut Vec<Element>);

impl<'de> Visitor<'de> for Flatten<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an array of tensor elements")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        if let Some(n) = seq.size_hint() {
            self.0.reserve(n);
        }
        while seq.next_element_seed(Item(&mut *self.0))?.is_some() {}
        Ok(())
    }
}

/// One item of an array: an element, or a nested array to flatten.
struct Item<'a>(&'a mut Vec<Element>);

impl<'de> de::DeserializeSeed<'de> for Item<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Item<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a tensor element or an array of them")
    }

    fn visit_unit<E>(self) -> Result<(), E> {
        self.0.push(Element::Null);
        Ok(())
    }

    fn visit_none<E>(self) -> Result<(), E> {
        self.0.push(Element::Null);
        Ok(())
    }

    fn visit_bool<E>(self, _: bool) -> Result<(), E> {
        self.0.push(Element::Other("a boolean"));
        Ok(())
    }

    fn visit_i64<E>(self, v: i64) -> Result<(), E> {
        self.0.push(Element::Int(v.into()));
        Ok(())
    }

    fn visit_u64<E>(self, v: u64) -> Result<(), E> {
        self.0.push(Element::Int(v.into()));
        Ok(())
    }

    fn visit_f64<E>(self, v: f64) -> Result<(), E> {
        self.0.push(Element::Float(v));
        Ok(())
    }

    fn visit_str<E>(self, v: &str) -> Result<(), E> {
        self.0.push(Element::Text(v.to_owned()));
        Ok(())
    }

    fn visit_string<E>(self, v: String) -> Result<(), E> {
        self.0.push(Element::Text(v));
        Ok(())
    }

    fn visit_map<A: de::MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while map
            .next_entry::<de::IgnoredAny, de::IgnoredAny>()?
            .is_some()
        {}
        self.0.push(Element::Other("an object"));
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<(), A::Error> {
        Flatten(self.0).visit_seq(seq)
    }
}

impl Element {
    fn kind(&self) -> &'static str {
        match self {
            Element::Null => "null",
            Element::Int(_) | Element::Float(_) => "a number",
            Element::Text(_) => "a string",
            Element::Other(kind) => kind,
        }
    }
}

/// The raw field value a JSON element of `datatype` stands for, or why the
/// element does not fit the datatype. The field's own rules apply later.
pub fn json_value(datatype: Datatype, element: Element) -> Result<FieldValue, String> {
    let wrong = |e: &Element| {
        format!(
            "{} data must be {}, got {}",
            datatype.name(),
            datatype.expected(),
            e.kind()
        )
    };
    match (datatype, element) {
        (_, Element::Null) => Ok(FieldValue::Missing),
        (Datatype::Bytes, Element::Text(t)) => Ok(FieldValue::Text(t)),
        (Datatype::Int32, Element::Int(i)) if i32::try_from(i).is_ok() => {
            Ok(FieldValue::Number(i as f64))
        }
        (Datatype::Int64, Element::Int(i)) if i64::try_from(i).is_ok() => {
            Ok(FieldValue::Number(i as f64))
        }
        (Datatype::Fp32 | Datatype::Fp64, Element::Int(i)) => Ok(FieldValue::Number(i as f64)),
        (Datatype::Fp32 | Datatype::Fp64, Element::Float(f)) => Ok(FieldValue::Number(f)),
        (_, e) => Err(wrong(&e)),
    }
}

/// Reads `n` elements of `datatype` from binary tensor data. A NaN float is
/// a missing value (there is no `null` in binary form).
pub fn binary_values(datatype: Datatype, n: usize, data: &[u8]) -> Result<Vec<FieldValue>, String> {
    let Some(width) = datatype.width() else {
        return binary_texts(n, data);
    };
    if Some(data.len()) != n.checked_mul(width) {
        return Err(format!(
            "has {} bytes of binary data, but {n} {} elements take {}",
            data.len(),
            datatype.name(),
            n.saturating_mul(width)
        ));
    }
    let float = FieldValue::from_column;
    Ok(data
        .chunks_exact(width)
        .map(|c| match datatype {
            Datatype::Int32 => FieldValue::Number(f64::from(i32::from_le_bytes(four(c)))),
            Datatype::Int64 => FieldValue::Number(i64::from_le_bytes(eight(c)) as f64),
            Datatype::Fp32 => float(f64::from(f32::from_le_bytes(four(c)))),
            Datatype::Fp64 | Datatype::Bytes => float(f64::from_le_bytes(eight(c))),
        })
        .collect())
}

fn four(c: &[u8]) -> [u8; 4] {
    std::array::from_fn(|i| c[i])
}

fn eight(c: &[u8]) -> [u8; 8] {
    std::array::from_fn(|i| c[i])
}

fn binary_texts(n: usize, mut data: &[u8]) -> Result<Vec<FieldValue>, String> {
    let mut out = Vec::with_capacity(n.min(data.len() / 4));
    for row in 0..n {
        let Some((len, rest)) = data.split_first_chunk::<4>() else {
            return Err(format!(
                "binary BYTES data ends before element {row} of {n}"
            ));
        };
        let len = u32::from_le_bytes(*len) as usize;
        let Some((text, rest)) = rest.split_at_checked(len) else {
            return Err(format!(
                "binary BYTES element {row} declares {len} bytes, but fewer are left"
            ));
        };
        let text = std::str::from_utf8(text)
            .map_err(|_| format!("binary BYTES element {row} is not UTF-8 text"))?;
        out.push(FieldValue::Text(text.to_owned()));
        data = rest;
    }
    if !data.is_empty() {
        return Err(format!(
            "binary BYTES data has {} bytes left after its {n} elements",
            data.len()
        ));
    }
    Ok(out)
}

/// Appends `values` as binary `INT64` elements.
pub fn put_int64(out: &mut Vec<u8>, values: impl Iterator<Item = i64>) {
    for v in values {
        out.extend_from_slice(&v.to_le_bytes());
    }
}

/// Appends `values` as binary `FP64` elements.
pub fn put_fp64(out: &mut Vec<u8>, values: impl Iterator<Item = f64>) {
    for v in values {
        out.extend_from_slice(&v.to_le_bytes());
    }
}

/// Appends `values` as binary `BYTES` elements.
pub fn put_bytes<'a>(out: &mut Vec<u8>, values: impl Iterator<Item = &'a str>) {
    for v in values {
        // ids and the like are far below 4 GiB
        out.extend_from_slice(&(v.len() as u32).to_le_bytes());
        out.extend_from_slice(v.as_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nested_data_is_flattened_row_major() {
        let e: Elements = serde_json::from_str(r#"[[1], [2.5], [null], ["x"], [true]]"#).unwrap();
        assert_eq!(
            e.0,
            vec![
                Element::Int(1),
                Element::Float(2.5),
                Element::Null,
                Element::Text("x".into()),
                Element::Other("a boolean"),
            ]
        );
        assert!(serde_json::from_str::<Elements>("3").is_err());
    }

    #[test]
    fn json_elements_must_fit_their_datatype() {
        use Datatype::*;
        assert_eq!(
            json_value(Int64, Element::Int(3)),
            Ok(FieldValue::Number(3.0))
        );
        assert_eq!(json_value(Fp32, Element::Null), Ok(FieldValue::Missing));
        assert_eq!(
            json_value(Bytes, Element::Text("29".into())),
            Ok(FieldValue::Text("29".into()))
        );
        assert_eq!(
            json_value(Int32, Element::Int(1 << 40)).unwrap_err(),
            "INT32 data must be whole numbers that fit 32 bits, or null, got a number"
        );
        assert!(json_value(Int64, Element::Float(2.5)).is_err());
        assert!(json_value(Bytes, Element::Int(1)).is_err());
        assert!(json_value(Fp64, Element::Text("1".into())).is_err());
    }

    #[test]
    fn binary_round_trip() {
        let mut out = Vec::new();
        put_fp64(&mut out, [1.5, f64::NAN].into_iter());
        assert_eq!(
            binary_values(Datatype::Fp64, 2, &out),
            Ok(vec![FieldValue::Number(1.5), FieldValue::Missing])
        );
        assert!(binary_values(Datatype::Fp64, 3, &out).is_err());
        let mut out = Vec::new();
        put_int64(&mut out, [3, -1].into_iter());
        assert_eq!(
            binary_values(Datatype::Int64, 2, &out),
            Ok(vec![FieldValue::Number(3.0), FieldValue::Number(-1.0)])
        );
        let mut out = Vec::new();
        put_bytes(&mut out, ["male", ""].into_iter());
        assert_eq!(
            binary_values(Datatype::Bytes, 2, &out),
            Ok(vec![
                FieldValue::Text("male".into()),
                FieldValue::Text("".into())
            ])
        );
        assert!(binary_values(Datatype::Bytes, 3, &out).is_err());
        assert!(binary_values(Datatype::Bytes, 1, &out).is_err());
        assert!(binary_values(Datatype::Bytes, 1, &[9, 0, 0, 0, b'a']).is_err());
        assert!(binary_values(Datatype::Bytes, 1, &[1, 0, 0, 0, 0xff]).is_err());
        let mut out = Vec::new();
        out.extend_from_slice(&7i32.to_le_bytes());
        assert_eq!(
            binary_values(Datatype::Int32, 1, &out),
            Ok(vec![FieldValue::Number(7.0)])
        );
    }
}
