//! Avro values and their binary encoding, byte for byte as the specification and Java's
//! `BinaryEncoder` write them: zig-zag variable-length ints and longs, little-endian floats and
//! doubles, length-prefixed bytes and strings, arrays and maps as one block of items followed by a
//! zero, a union as its branch index then the value.

use super::schema::{Node, NodeId, Schema};
use serde_json::Value as Json;

/// A value of some Avro type.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// `null`.
    Null,
    /// A boolean.
    Boolean(bool),
    /// An `int`.
    Int(i32),
    /// A `long`.
    Long(i64),
    /// A `float`.
    Float(f32),
    /// A `double`.
    Double(f64),
    /// `bytes`.
    Bytes(Vec<u8>),
    /// A `string`.
    String(String),
    /// A `fixed`'s bytes.
    Fixed(Vec<u8>),
    /// An enum symbol, by index and name.
    Enum(u32, String),
    /// An array's items.
    Array(Vec<Value>),
    /// A map's entries in the order they are written.
    Map(Vec<(String, Value)>),
    /// The branch a union value takes, and the value.
    Union(u32, Box<Value>),
    /// A record's fields, by name, in the schema's order.
    Record(Vec<(String, Value)>),
}

/// A value that does not fit the schema it is written with.
#[derive(Debug, Clone, PartialEq)]
pub struct EncodeError {
    /// Where in the value (`/fields/amount`, `/items/2`), a JSON pointer.
    pub at: String,
    /// What was expected.
    pub message: String,
}

fn zigzag(n: i64) -> u64 {
    ((n << 1) ^ (n >> 63)) as u64
}

fn write_long(out: &mut Vec<u8>, n: i64) {
    let mut z = zigzag(n);
    while z >= 0x80 {
        out.push((z as u8) | 0x80);
        z >>= 7;
    }
    out.push(z as u8);
}

/// Encodes a value with a schema (`GenericDatumWriter` into a `BinaryEncoder`).
pub fn encode(schema: &Schema, value: &Value) -> Result<Vec<u8>, EncodeError> {
    let mut out = Vec::new();
    write(schema, schema.root, value, &mut out, &mut String::new())?;
    Ok(out)
}

fn mismatch(at: &str, schema: &Schema, id: NodeId, value: &Value) -> EncodeError {
    EncodeError { at: if at.is_empty() { "/".into() } else { at.to_string() }, message: format!("expected {}, found {}", schema.type_name(id).to_ascii_lowercase(), value.kind()) }
}

fn write(schema: &Schema, id: NodeId, value: &Value, out: &mut Vec<u8>, at: &mut String) -> Result<(), EncodeError> {
    match (schema.node(id), value) {
        (Node::Null, Value::Null) => {}
        (Node::Boolean, Value::Boolean(b)) => out.push(u8::from(*b)),
        (Node::Int, Value::Int(n)) => write_long(out, i64::from(*n)),
        (Node::Long, Value::Long(n)) => write_long(out, *n),
        (Node::Float, Value::Float(f)) => out.extend_from_slice(&f.to_le_bytes()),
        (Node::Double, Value::Double(f)) => out.extend_from_slice(&f.to_le_bytes()),
        (Node::Bytes, Value::Bytes(b)) => {
            write_long(out, b.len() as i64);
            out.extend_from_slice(b);
        }
        (Node::String, Value::String(s)) => {
            write_long(out, s.len() as i64);
            out.extend_from_slice(s.as_bytes());
        }
        (Node::Fixed(f), Value::Fixed(b)) if b.len() == f.size => out.extend_from_slice(b),
        (Node::Enum(e), Value::Enum(i, symbol)) if e.symbols.get(*i as usize) == Some(symbol) => write_long(out, i64::from(*i)),
        (Node::Array(items), Value::Array(values)) => {
            if !values.is_empty() {
                write_long(out, values.len() as i64);
                for (i, v) in values.iter().enumerate() {
                    let len = at.len();
                    at.push_str(&format!("/items/{i}"));
                    write(schema, *items, v, out, at)?;
                    at.truncate(len);
                }
            }
            out.push(0);
        }
        (Node::Map(values_ty), Value::Map(entries)) => {
            if !entries.is_empty() {
                write_long(out, entries.len() as i64);
                for (k, v) in entries {
                    write_long(out, k.len() as i64);
                    out.extend_from_slice(k.as_bytes());
                    let len = at.len();
                    at.push_str(&format!("/values/{k}"));
                    write(schema, *values_ty, v, out, at)?;
                    at.truncate(len);
                }
            }
            out.push(0);
        }
        (Node::Union(branches), Value::Union(i, v)) => match branches.get(*i as usize) {
            Some(&branch) => {
                write_long(out, i64::from(*i));
                write(schema, branch, v, out, at)?;
            }
            None => return Err(EncodeError { at: at.clone(), message: format!("the union has no branch {i}") }),
        },
        (Node::Record(record), Value::Record(fields)) => {
            for field in &record.fields {
                let len = at.len();
                at.push_str(&format!("/fields/{}", field.name));
                let Some((_, v)) = fields.iter().find(|(name, _)| *name == field.name) else {
                    return Err(EncodeError { at: at.clone(), message: format!("the record has no field {}", field.name) });
                };
                write(schema, field.ty, v, out, at)?;
                at.truncate(len);
            }
        }
        _ => return Err(mismatch(at, schema, id, value)),
    }
    Ok(())
}

impl Value {
    /// The kind of value, in words, for errors.
    pub fn kind(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Boolean(_) => "boolean",
            Value::Int(_) => "int",
            Value::Long(_) => "long",
            Value::Float(_) => "float",
            Value::Double(_) => "double",
            Value::Bytes(_) => "bytes",
            Value::String(_) => "string",
            Value::Fixed(_) => "fixed",
            Value::Enum(..) => "enum",
            Value::Array(_) => "array",
            Value::Map(_) => "map",
            Value::Union(..) => "union",
            Value::Record(_) => "record",
        }
    }

    /// The value a field's JSON default stands for, in the field's type, as Java's
    /// `ResolvingGrammarGenerator.encode` reads it: a union's default is of its first branch, bytes
    /// and fixed are strings of ISO-8859-1 characters. `None` when the default does not fit.
    pub fn from_default(schema: &Schema, id: NodeId, json: &Json) -> Option<Value> {
        Some(match (schema.node(id), json) {
            (Node::Null, Json::Null) => Value::Null,
            (Node::Boolean, Json::Bool(b)) => Value::Boolean(*b),
            (Node::Int, Json::Number(n)) => Value::Int(i32::try_from(n.as_i64()?).ok()?),
            (Node::Long, Json::Number(n)) => Value::Long(n.as_i64()?),
            (Node::Float, Json::Number(n)) => Value::Float(n.as_f64()? as f32),
            (Node::Double, Json::Number(n)) => Value::Double(n.as_f64()?),
            (Node::String, Json::String(s)) => Value::String(s.clone()),
            (Node::Bytes, Json::String(s)) => Value::Bytes(latin1(s)?),
            (Node::Fixed(f), Json::String(s)) => {
                let b = latin1(s)?;
                (b.len() == f.size).then_some(Value::Fixed(b))?
            }
            (Node::Enum(e), Json::String(s)) => Value::Enum(e.symbols.iter().position(|x| x == s)? as u32, s.clone()),
            (Node::Array(items), Json::Array(a)) => Value::Array(a.iter().map(|v| Value::from_default(schema, *items, v)).collect::<Option<_>>()?),
            (Node::Map(values), Json::Object(m)) => Value::Map(m.iter().map(|(k, v)| Some((k.clone(), Value::from_default(schema, *values, v)?))).collect::<Option<_>>()?),
            (Node::Union(branches), json) => Value::Union(0, Box::new(Value::from_default(schema, *branches.first()?, json)?)),
            (Node::Record(r), Json::Object(m)) => Value::Record(
                r.fields
                    .iter()
                    .map(|f| Some((f.name.clone(), Value::from_default(schema, f.ty, m.get(&f.name).or(f.default.as_ref())?)?)))
                    .collect::<Option<_>>()?,
            ),
            _ => return None,
        })
    }
}

fn latin1(s: &str) -> Option<Vec<u8>> {
    s.chars().map(|c| u8::try_from(u32::from(c)).ok()).collect()
}
