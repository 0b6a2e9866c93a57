//! JSON the way Consul's Go code writes and reads it: `encoding/json` escaping, `?pretty` with a
//! four-space indent and trailing newline, and field names matched case-insensitively on input.

use serde::Serialize;
use serde::de::{
    self, DeserializeOwned, DeserializeSeed, IntoDeserializer, MapAccess, SeqAccess, Visitor,
};

/// Encodes like Go's `json.Marshal` (or `json.MarshalIndent(v, "", "    ")` plus `\n` when
/// `pretty`). Go escapes `<`, `>`, `&`, U+2028 and U+2029 inside strings; so do we.
pub fn encode<T: Serialize + ?Sized>(
    value: &T,
    pretty: bool,
) -> Result<Vec<u8>, serde_json::Error> {
    let raw = if pretty {
        let mut out = Vec::new();
        let formatter = serde_json::ser::PrettyFormatter::with_indent(b"    ");
        value.serialize(&mut serde_json::Serializer::with_formatter(
            &mut out, formatter,
        ))?;
        out.push(b'\n');
        out
    } else {
        serde_json::to_vec(value)?
    };
    Ok(escape_like_go(raw))
}

/// Go's escaping of `<`, `>`, `&`, U+2028 and U+2029. These bytes can only occur inside JSON
/// strings, so replacing them cannot change structure.
pub fn escape_like_go(raw: Vec<u8>) -> Vec<u8> {
    let needs = raw.iter().any(|b| matches!(b, b'<' | b'>' | b'&' | 0xE2));
    if !needs {
        return raw;
    }
    let mut out = Vec::with_capacity(raw.len() + 16);
    let mut i = 0;
    while i < raw.len() {
        match (raw[i], raw.get(i + 1), raw.get(i + 2)) {
            (b'<', _, _) => out.extend_from_slice(b"\\u003c"),
            (b'>', _, _) => out.extend_from_slice(b"\\u003e"),
            (b'&', _, _) => out.extend_from_slice(b"\\u0026"),
            (0xE2, Some(0x80), Some(0xA8)) => {
                out.extend_from_slice(b"\\u2028");
                i += 2;
            }
            (0xE2, Some(0x80), Some(0xA9)) => {
                out.extend_from_slice(b"\\u2029");
                i += 2;
            }
            (b, _, _) => out.push(b),
        }
        i += 1;
    }
    out
}

/// Decodes a request body the way Go's `encoding/json` does: an object key that matches no
/// struct field exactly matches one case-insensitively (`"key"` fills `Key`). Map keys (user
/// data such as `Meta`) are left alone; only struct field names fold.
pub fn decode_case_insensitive<T: DeserializeOwned>(body: &[u8]) -> Result<T, serde_json::Error> {
    let mut deserializer = serde_json::Deserializer::from_slice(body);
    let value = T::deserialize(Folding(&mut deserializer))?;
    deserializer.end()?;
    Ok(value)
}

/// A deserializer that folds object keys onto struct field names at every depth.
struct Folding<D>(D);

/// Wraps a visitor so nested deserializers fold too; `fields` is set when a struct is expected.
struct FoldingVisitor<V> {
    inner: V,
    fields: Option<&'static [&'static str]>,
}

struct FoldingSeed<S>(S);

struct FoldingMap<A> {
    inner: A,
    fields: Option<&'static [&'static str]>,
}

struct FoldingSeq<A>(A);

fn canonical_field(fields: &'static [&'static str], key: &str) -> Option<&'static str> {
    if fields.contains(&key) {
        return None;
    }
    fields.iter().copied().find(|f| f.eq_ignore_ascii_case(key))
}

macro_rules! forward_with_visitor {
    ($($method:ident),* $(,)?) => {
        $(
            fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
                self.0.$method(FoldingVisitor { inner: visitor, fields: None })
            }
        )*
    };
}

impl<'de, D: de::Deserializer<'de>> de::Deserializer<'de> for Folding<D> {
    type Error = D::Error;

    forward_with_visitor!(
        deserialize_any,
        deserialize_bool,
        deserialize_i8,
        deserialize_i16,
        deserialize_i32,
        deserialize_i64,
        deserialize_i128,
        deserialize_u8,
        deserialize_u16,
        deserialize_u32,
        deserialize_u64,
        deserialize_u128,
        deserialize_f32,
        deserialize_f64,
        deserialize_char,
        deserialize_str,
        deserialize_string,
        deserialize_bytes,
        deserialize_byte_buf,
        deserialize_option,
        deserialize_unit,
        deserialize_seq,
        deserialize_map,
        deserialize_identifier,
        deserialize_ignored_any,
    );

    fn deserialize_unit_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        self.0.deserialize_unit_struct(
            name,
            FoldingVisitor {
                inner: visitor,
                fields: None,
            },
        )
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        self.0.deserialize_newtype_struct(
            name,
            FoldingVisitor {
                inner: visitor,
                fields: None,
            },
        )
    }

    fn deserialize_tuple<V: Visitor<'de>>(
        self,
        len: usize,
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        self.0.deserialize_tuple(
            len,
            FoldingVisitor {
                inner: visitor,
                fields: None,
            },
        )
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        len: usize,
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        self.0.deserialize_tuple_struct(
            name,
            len,
            FoldingVisitor {
                inner: visitor,
                fields: None,
            },
        )
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        let visitor = FoldingVisitor {
            inner: visitor,
            fields: Some(fields),
        };
        self.0.deserialize_struct(name, fields, visitor)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        name: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        // Variant payloads are not folded: no Consul request body uses data-carrying enums.
        self.0.deserialize_enum(name, variants, visitor)
    }

    fn is_human_readable(&self) -> bool {
        self.0.is_human_readable()
    }
}

macro_rules! forward_visit {
    ($($method:ident($ty:ty)),* $(,)?) => {
        $(
            fn $method<E: de::Error>(self, v: $ty) -> Result<Self::Value, E> {
                self.inner.$method(v)
            }
        )*
    };
}

impl<'de, V: Visitor<'de>> Visitor<'de> for FoldingVisitor<V> {
    type Value = V::Value;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.inner.expecting(f)
    }

    forward_visit!(
        visit_bool(bool),
        visit_i64(i64),
        visit_i128(i128),
        visit_u64(u64),
        visit_u128(u128),
        visit_f64(f64),
        visit_str(&str),
        visit_borrowed_str(&'de str),
        visit_string(String),
        visit_bytes(&[u8]),
        visit_borrowed_bytes(&'de [u8]),
        visit_byte_buf(Vec<u8>),
    );

    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        self.inner.visit_none()
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        self.inner.visit_unit()
    }

    fn visit_some<D: de::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        self.inner.visit_some(Folding(d))
    }

    fn visit_newtype_struct<D: de::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        self.inner.visit_newtype_struct(Folding(d))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
        self.inner.visit_seq(FoldingSeq(seq))
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        self.inner.visit_map(FoldingMap {
            inner: map,
            fields: self.fields,
        })
    }

    fn visit_enum<A: de::EnumAccess<'de>>(self, data: A) -> Result<Self::Value, A::Error> {
        self.inner.visit_enum(data)
    }
}

impl<'de, S: DeserializeSeed<'de>> DeserializeSeed<'de> for FoldingSeed<S> {
    type Value = S::Value;

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        self.0.deserialize(Folding(d))
    }
}

impl<'de, A: SeqAccess<'de>> SeqAccess<'de> for FoldingSeq<A> {
    type Error = A::Error;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, Self::Error> {
        self.0.next_element_seed(FoldingSeed(seed))
    }

    fn size_hint(&self) -> Option<usize> {
        self.0.size_hint()
    }
}

impl<'de, A: MapAccess<'de>> MapAccess<'de> for FoldingMap<A> {
    type Error = A::Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, Self::Error> {
        let Some(fields) = self.fields else {
            return self.inner.next_key_seed(seed);
        };
        let Some(key) = self.inner.next_key::<String>()? else {
            return Ok(None);
        };
        let value = match canonical_field(fields, &key) {
            Some(field) => seed.deserialize(field.into_deserializer())?,
            None => seed.deserialize(key.into_deserializer())?,
        };
        Ok(Some(value))
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(
        &mut self,
        seed: V,
    ) -> Result<V::Value, Self::Error> {
        self.inner.next_value_seed(FoldingSeed(seed))
    }

    fn size_hint(&self) -> Option<usize> {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use serde::Deserialize;

    use super::*;

    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(rename_all = "PascalCase")]
    struct Check {
        check_id: String,
        #[serde(default)]
        interval: Option<String>,
    }

    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(rename_all = "PascalCase")]
    struct Service {
        name: String,
        #[serde(default)]
        meta: BTreeMap<String, String>,
        #[serde(default)]
        checks: Vec<Check>,
        #[serde(default)]
        check: Option<Check>,
    }

    #[test]
    fn struct_fields_match_case_insensitively_at_every_depth() {
        let body = br#"{"name":"web","META":{"Zone_A":"x"},"checks":[{"checkid":"c1","INTERVAL":"10s"}],"check":{"CheckId":"c2"}}"#;
        let service: Service = decode_case_insensitive(body).unwrap();
        assert_eq!(service.name, "web");
        assert_eq!(service.meta.get("Zone_A").map(String::as_str), Some("x"));
        assert_eq!(
            service.checks,
            vec![Check {
                check_id: "c1".to_owned(),
                interval: Some("10s".to_owned())
            }]
        );
        assert_eq!(service.check.map(|c| c.check_id), Some("c2".to_owned()));
    }

    #[test]
    fn malformed_and_trailing_input_are_errors() {
        assert!(decode_case_insensitive::<Service>(br#"{"name":1}"#).is_err());
        assert!(decode_case_insensitive::<Service>(br#"{"name":"a"} x"#).is_err());
        assert!(decode_case_insensitive::<Service>(b"").is_err());
    }

    #[test]
    fn encoding_escapes_html_characters_like_go() {
        let out = encode(&vec!["<a&b>\u{2028}"], false).unwrap();
        assert_eq!(out, br#"["\u003ca\u0026b\u003e\u2028"]"#.to_vec());
    }

    #[test]
    fn pretty_encoding_uses_four_spaces_and_a_trailing_newline() {
        let out = encode(&vec![1, 2], true).unwrap();
        assert_eq!(String::from_utf8(out).unwrap(), "[\n    1,\n    2\n]\n");
    }
}
