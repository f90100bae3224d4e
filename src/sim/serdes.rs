//! Serializers and deserializers with Kafka's class names: what a record's value becomes in bytes
//! (its size is what `batch.size`, `retention.bytes` and the fetch sizes count) and whether a
//! consumer's deserializer can read those bytes.
//!
//! The Avro pair is Schema Registry's (`KafkaAvroSerializer`/`KafkaAvroDeserializer`): the
//! Confluent wire format is a magic byte 0, the schema's id as 4 big-endian bytes, then the Avro
//! binary encoding. Looking a schema up is the registry's part; this module only reads and writes
//! bytes.

use super::avro::resolve::read;
use super::avro::{encode, Node, Schema, Value};
use serde::Serialize;
use serde_json::Value as Json;

/// A value serializer (`value.serializer`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub enum Serializer {
    /// `org.apache.kafka.common.serialization.StringSerializer`: UTF-8 text.
    #[default]
    String,
    /// `org.apache.kafka.common.serialization.IntegerSerializer`: 4 bytes, big-endian.
    Integer,
    /// `org.apache.kafka.common.serialization.LongSerializer`: 8 bytes, big-endian.
    Long,
    /// `org.apache.kafka.connect.json.JsonSerializer`: the value as JSON text.
    Json,
    /// `io.confluent.kafka.serializers.KafkaAvroSerializer`: the wire format.
    Avro,
}

/// A value deserializer (`value.deserializer`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub enum Deserializer {
    /// `org.apache.kafka.common.serialization.StringDeserializer`: any bytes, read as UTF-8 (with
    /// replacement characters where they are not).
    #[default]
    String,
    /// `org.apache.kafka.common.serialization.IntegerDeserializer`: exactly 4 bytes.
    Integer,
    /// `org.apache.kafka.common.serialization.LongDeserializer`: exactly 8 bytes.
    Long,
    /// `org.apache.kafka.connect.json.JsonDeserializer`: JSON text.
    Json,
    /// `io.confluent.kafka.serializers.KafkaAvroDeserializer`: the wire format.
    Avro,
}

const SERIALIZERS: [(&str, Serializer); 5] = [
    ("org.apache.kafka.common.serialization.StringSerializer", Serializer::String),
    ("org.apache.kafka.common.serialization.IntegerSerializer", Serializer::Integer),
    ("org.apache.kafka.common.serialization.LongSerializer", Serializer::Long),
    ("org.apache.kafka.connect.json.JsonSerializer", Serializer::Json),
    ("io.confluent.kafka.serializers.KafkaAvroSerializer", Serializer::Avro),
];

const DESERIALIZERS: [(&str, Deserializer); 5] = [
    ("org.apache.kafka.common.serialization.StringDeserializer", Deserializer::String),
    ("org.apache.kafka.common.serialization.IntegerDeserializer", Deserializer::Integer),
    ("org.apache.kafka.common.serialization.LongDeserializer", Deserializer::Long),
    ("org.apache.kafka.connect.json.JsonDeserializer", Deserializer::Json),
    ("io.confluent.kafka.serializers.KafkaAvroDeserializer", Deserializer::Avro),
];

/// A (de)serializer named by its Java class.
pub trait Class: Copy + PartialEq + Default + 'static {
    /// Every class name, with what it stands for.
    const TABLE: &'static [(&'static str, Self)];

    /// The class name.
    fn class(self) -> &'static str {
        Self::TABLE.iter().find(|(_, s)| *s == self).map(|(c, _)| *c).expect("every one is listed")
    }

    /// What a class name stands for.
    fn from_class(class: &str) -> Option<Self> {
        Self::TABLE.iter().find(|(c, _)| *c == class).map(|(_, s)| *s)
    }

    /// The class names accepted, for error hints.
    fn classes() -> Vec<&'static str> {
        Self::TABLE.iter().map(|(c, _)| *c).collect()
    }

    /// The class's short name (`KafkaAvroSerializer`).
    fn short(self) -> &'static str {
        self.class().rsplit('.').next().unwrap_or("")
    }
}

impl Class for Serializer {
    const TABLE: &'static [(&'static str, Self)] = &SERIALIZERS;
}

impl Class for Deserializer {
    const TABLE: &'static [(&'static str, Self)] = &DESERIALIZERS;
}

/// A record value's bytes as its serializer wrote them, kept for the records whose bytes are not
/// their text (every serializer but `StringSerializer`).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Payload {
    /// Who wrote them.
    pub serializer: Serializer,
    /// The registry's schema id, for Avro.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub schema_id: Option<u32>,
    /// The bytes, as hex in JSON output.
    #[serde(serialize_with = "hex")]
    pub bytes: Vec<u8>,
}

fn hex<S: serde::Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
    let text: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    s.serialize_str(&text)
}

/// Why a value could not be serialized (`send()` throws `SerializationException`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SerializeError(pub String);

/// The bytes of a value that is a number, for `IntegerSerializer` and `LongSerializer`.
pub fn number_bytes(serializer: Serializer, value: &Json) -> Result<Vec<u8>, SerializeError> {
    let n = match value {
        Json::Number(n) => n.as_i64(),
        Json::String(s) => s.trim().parse::<i64>().ok(),
        _ => None,
    }
    .ok_or_else(|| SerializeError(format!("{value} is not a number, which {} needs", serializer.short())))?;
    match serializer {
        Serializer::Integer => i32::try_from(n).map(|n| n.to_be_bytes().to_vec()).map_err(|_| SerializeError(format!("{n} does not fit an Integer"))),
        _ => Ok(n.to_be_bytes().to_vec()),
    }
}

/// The Confluent wire format: magic byte 0, the schema id, the Avro encoding.
pub fn avro_wire(schema: &Schema, id: u32, value: &Value) -> Result<Vec<u8>, SerializeError> {
    let body = encode(schema, value).map_err(|e| SerializeError(format!("at {}: {}", e.at, e.message)))?;
    let mut out = Vec::with_capacity(5 + body.len());
    out.push(0);
    out.extend_from_slice(&id.to_be_bytes());
    out.extend_from_slice(&body);
    Ok(out)
}

/// The Avro value a scenario's JSON value stands for under a schema: fields by name (a missing
/// field takes its default), numbers for numeric types (a string of digits too, so that `"{n}"`
/// templates fill number fields), a union value in the first branch it fits.
pub fn avro_value(schema: &Schema, json: &Json) -> Result<Value, SerializeError> {
    to_avro(schema, schema.root, json, "")
}

fn to_avro(schema: &Schema, id: usize, json: &Json, at: &str) -> Result<Value, SerializeError> {
    let wrong = || SerializeError(format!("at {}: {json} is not {}", if at.is_empty() { "/" } else { at }, schema.type_name(id).to_ascii_lowercase()));
    let number = |json: &Json| match json {
        Json::Number(n) => n.as_f64(),
        Json::String(s) => s.trim().parse::<f64>().ok(),
        _ => None,
    };
    let integer = |json: &Json| match json {
        Json::Number(n) => n.as_i64(),
        Json::String(s) => s.trim().parse::<i64>().ok(),
        _ => None,
    };
    Ok(match schema.node(id) {
        Node::Null if json.is_null() => Value::Null,
        Node::Boolean => Value::Boolean(json.as_bool().ok_or_else(wrong)?),
        Node::Int => Value::Int(integer(json).and_then(|n| i32::try_from(n).ok()).ok_or_else(wrong)?),
        Node::Long => Value::Long(integer(json).ok_or_else(wrong)?),
        Node::Float => Value::Float(number(json).ok_or_else(wrong)? as f32),
        Node::Double => Value::Double(number(json).ok_or_else(wrong)?),
        Node::String => Value::String(json.as_str().ok_or_else(wrong)?.to_string()),
        Node::Bytes => Value::Bytes(json.as_str().ok_or_else(wrong)?.as_bytes().to_vec()),
        Node::Fixed(f) => {
            let b = json.as_str().ok_or_else(wrong)?.as_bytes().to_vec();
            if b.len() != f.size {
                return Err(wrong());
            }
            Value::Fixed(b)
        }
        Node::Enum(e) => {
            let s = json.as_str().ok_or_else(wrong)?;
            Value::Enum(e.symbols.iter().position(|x| x == s).ok_or_else(wrong)? as u32, s.to_string())
        }
        Node::Array(items) => Value::Array(
            json.as_array().ok_or_else(wrong)?.iter().enumerate().map(|(i, v)| to_avro(schema, *items, v, &format!("{at}/{i}"))).collect::<Result<_, _>>()?,
        ),
        Node::Map(values) => Value::Map(
            json.as_object().ok_or_else(wrong)?.iter().map(|(k, v)| Ok((k.clone(), to_avro(schema, *values, v, &format!("{at}/{k}"))?))).collect::<Result<_, _>>()?,
        ),
        Node::Union(branches) => {
            let found = branches.iter().enumerate().find_map(|(i, b)| to_avro(schema, *b, json, at).ok().map(|v| (i, v)));
            let (i, v) = found.ok_or_else(wrong)?;
            Value::Union(i as u32, Box::new(v))
        }
        Node::Record(r) => {
            let object = json.as_object().ok_or_else(wrong)?;
            if let Some(extra) = object.keys().find(|k| !r.fields.iter().any(|f| &f.name == *k)) {
                return Err(SerializeError(format!("at {at}/{extra}: the schema {} has no field {extra}", r.name.full())));
            }
            let mut fields = Vec::with_capacity(r.fields.len());
            for f in &r.fields {
                let here = format!("{at}/{}", f.name);
                let v = match (object.get(&f.name), &f.default) {
                    (Some(v), _) => to_avro(schema, f.ty, v, &here)?,
                    (None, Some(d)) => Value::from_default(schema, f.ty, d).ok_or_else(|| SerializeError(format!("at {here}: the default does not fit")))?,
                    (None, None) => return Err(SerializeError(format!("at {here}: the field {} has no value and no default", f.name))),
                };
                fields.push((f.name.clone(), v));
            }
            Value::Record(fields)
        }
        _ => return Err(wrong()),
    })
}

/// A value as JSON text, as a student reads it (`{"id":7,"currency":"EUR"}`): fields in the
/// schema's order, a union as its value, bytes as their text.
pub fn avro_text(value: &Value) -> String {
    let mut out = String::new();
    write_text(value, &mut out);
    out
}

fn write_text(value: &Value, out: &mut String) {
    let quoted = |s: &str| Json::String(s.to_string()).to_string();
    let number = |f: f64| serde_json::Number::from_f64(f).map_or("null".to_string(), |n| n.to_string());
    match value {
        Value::Null => out.push_str("null"),
        Value::Boolean(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Int(n) => out.push_str(&n.to_string()),
        Value::Long(n) => out.push_str(&n.to_string()),
        Value::Float(f) => out.push_str(&number(f64::from(*f))),
        Value::Double(f) => out.push_str(&number(*f)),
        Value::Bytes(b) | Value::Fixed(b) => out.push_str(&quoted(&String::from_utf8_lossy(b))),
        Value::String(s) | Value::Enum(_, s) => out.push_str(&quoted(s)),
        Value::Union(_, v) => write_text(v, out),
        Value::Array(items) => {
            out.push('[');
            for (i, v) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_text(v, out);
            }
            out.push(']');
        }
        Value::Map(entries) | Value::Record(entries) => {
            out.push('{');
            for (i, (k, v)) in entries.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&quoted(k));
                out.push(':');
                write_text(v, out);
            }
            out.push('}');
        }
    }
}

/// Why a deserializer could not read a record's value (`poll()` throws
/// `RecordDeserializationException` at that offset).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeserializeError(pub String);

/// The schema id of a value in the Confluent wire format (magic byte 0, then 4 bytes), if it is one.
pub fn wire_id(bytes: &[u8]) -> Option<u32> {
    match bytes {
        [0, a, b, c, d, ..] => Some(u32::from_be_bytes([*a, *b, *c, *d])),
        _ => None,
    }
}

/// What a deserializer makes of a value's bytes: the decoded text, or why it fails. `writer` looks
/// a wire-format schema id up (the registry's part: `Err` says why it could not); `reader` is the
/// consumer's own schema, if it reads with one.
pub fn deserialize<'s>(
    deserializer: Deserializer,
    bytes: &[u8],
    reader: Option<&'s Schema>,
    writer: &dyn Fn(u32) -> Result<&'s Schema, String>,
) -> Result<String, DeserializeError> {
    let fail = |m: String| Err(DeserializeError(m));
    match deserializer {
        Deserializer::String => Ok(String::from_utf8_lossy(bytes).into_owned()),
        Deserializer::Integer if bytes.len() == 4 => Ok(i32::from_be_bytes(bytes.try_into().expect("four bytes")).to_string()),
        Deserializer::Integer => fail("Size of data received by IntegerDeserializer is not 4".into()),
        Deserializer::Long if bytes.len() == 8 => Ok(i64::from_be_bytes(bytes.try_into().expect("eight bytes")).to_string()),
        Deserializer::Long => fail("Size of data received by LongDeserializer is not 8".into()),
        Deserializer::Json => match serde_json::from_slice::<Json>(bytes) {
            Ok(v) => Ok(v.to_string()),
            Err(e) => fail(format!("com.fasterxml.jackson.core.JsonParseException: {e}")),
        },
        Deserializer::Avro => {
            let Some(id) = wire_id(bytes) else {
                return fail("Unknown magic byte!".into());
            };
            let writer = writer(id).map_err(DeserializeError)?;
            match read(writer, reader.unwrap_or(writer), &bytes[5..]) {
                Ok(v) => Ok(avro_text(&v)),
                Err(e) => fail(format!("Error deserializing Avro message for id {id}: {} ({})", e.message(), e.java())),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn no_registry(_: u32) -> Result<&'static Schema, String> {
        Err("no registry".into())
    }

    #[test]
    fn numbers_are_big_endian_and_deserializers_check_the_length() {
        assert_eq!(number_bytes(Serializer::Integer, &Json::from(258)).unwrap(), vec![0, 0, 1, 2]);
        assert_eq!(number_bytes(Serializer::Long, &Json::from("7")).unwrap(), vec![0, 0, 0, 0, 0, 0, 0, 7]);
        assert!(number_bytes(Serializer::Integer, &Json::from(1i64 << 40)).is_err());
        assert_eq!(deserialize(Deserializer::Integer, &[0, 0, 1, 2], None, &no_registry).unwrap(), "258");
        let err = deserialize(Deserializer::Integer, b"hello", None, &no_registry).unwrap_err();
        assert_eq!(err.0, "Size of data received by IntegerDeserializer is not 4");
        assert_eq!(deserialize(Deserializer::Avro, b"{\"id\":1}", None, &no_registry).unwrap_err().0, "Unknown magic byte!");
    }

    #[test]
    fn the_wire_format_is_magic_id_and_avro_and_reads_back_with_another_schema() {
        let v1 = Schema::parse_str(r#"{"type":"record","name":"Order","fields":[{"name":"id","type":"int"}]}"#).unwrap();
        let v2 = Schema::parse_str(r#"{"type":"record","name":"Order","fields":[{"name":"id","type":"int"},{"name":"currency","type":"string","default":"EUR"}]}"#).unwrap();
        let value = avro_value(&v1, &serde_json::json!({"id": "7"})).unwrap();
        let bytes = avro_wire(&v1, 3, &value).unwrap();
        assert_eq!(bytes, vec![0, 0, 0, 0, 3, 14]);
        let registry = |id: u32| if id == 3 { Ok(&v1) } else { Err(format!("Schema {id} not found")) };
        assert_eq!(deserialize(Deserializer::Avro, &bytes, Some(&v2), &registry).unwrap(), r#"{"id":7,"currency":"EUR"}"#);
        assert_eq!(deserialize(Deserializer::String, &bytes, None, &registry).unwrap(), "\0\0\0\0\u{3}\u{e}");
        assert_eq!(deserialize(Deserializer::Avro, &[0, 0, 0, 0, 9, 14], None, &registry).unwrap_err().0, "Schema 9 not found");
        let err = avro_value(&v1, &serde_json::json!({"id": 1, "note": "x"})).unwrap_err();
        assert_eq!(err.0, "at /note: the schema Order has no field note");
    }
}
