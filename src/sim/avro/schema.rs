//! Avro schemas: the types, and the parser of a schema's JSON text as `org.apache.avro.Schema.Parser`
//! (Avro 1.12) reads it.
//!
//! A schema is an arena of nodes. Every occurrence of a primitive, array, map or union is a node of
//! its own, and a named type (record, enum, fixed) is one node that every reference to its name
//! shares, as the Java parser makes one object per named type and a new one per primitive. The
//! compatibility check remembers pairs of nodes (as Java remembers pairs of objects), so this
//! sharing decides which locations its answers give.

use serde_json::Value as Json;
use std::collections::BTreeMap;

/// The index of a node in its [`Schema`].
pub type NodeId = usize;

/// An Avro type, with the nodes it refers to.
#[derive(Debug, Clone, PartialEq)]
pub enum Node {
    /// `"null"`.
    Null,
    /// `"boolean"`.
    Boolean,
    /// `"int"`: 32-bit signed.
    Int,
    /// `"long"`: 64-bit signed.
    Long,
    /// `"float"`: 32-bit IEEE 754.
    Float,
    /// `"double"`: 64-bit IEEE 754.
    Double,
    /// `"bytes"`.
    Bytes,
    /// `"string"`: UTF-8 text.
    String,
    /// `{"type": "array", "items": …}`.
    Array(NodeId),
    /// `{"type": "map", "values": …}` (keys are strings).
    Map(NodeId),
    /// `[…]`: one of the branches.
    Union(Vec<NodeId>),
    /// `{"type": "record", …}`.
    Record(Record),
    /// `{"type": "enum", …}`.
    Enum(Enum),
    /// `{"type": "fixed", …}`.
    Fixed(Fixed),
    /// A name referred to before its definition was complete (a recursive record's field, or a
    /// forward reference); [`Schema::parse`] replaces every one, so a parsed schema holds none.
    Pending(String),
}

/// The name of a named type: its full name and the full names of its aliases.
#[derive(Debug, Clone, PartialEq)]
pub struct Name {
    /// The unqualified name (`Payment`).
    pub name: String,
    /// The namespace, if any (`shop.v1`).
    pub namespace: Option<String>,
    /// Aliases, each made full with the type's namespace as Java's `addAlias` does.
    pub aliases: Vec<String>,
}

impl Name {
    /// The full name (`shop.v1.Payment`).
    pub fn full(&self) -> String {
        match &self.namespace {
            Some(ns) => format!("{ns}.{}", self.name),
            None => self.name.clone(),
        }
    }
}

/// A record type.
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    /// Its name.
    pub name: Name,
    /// Its fields in declaration order.
    pub fields: Vec<Field>,
}

/// A field of a record.
#[derive(Debug, Clone, PartialEq)]
pub struct Field {
    /// The field's name.
    pub name: String,
    /// The field's aliases (plain names, as Avro keeps them).
    pub aliases: Vec<String>,
    /// The field's type.
    pub ty: NodeId,
    /// The default, as written in the schema (already checked against the type).
    pub default: Option<Json>,
}

/// An enum type.
#[derive(Debug, Clone, PartialEq)]
pub struct Enum {
    /// Its name.
    pub name: Name,
    /// The symbols in order; a symbol is encoded as its index.
    pub symbols: Vec<String>,
    /// The enum's own default symbol (Avro 1.9+), used when a reader lacks a writer's symbol.
    pub default: Option<String>,
}

/// A fixed type: exactly `size` bytes.
#[derive(Debug, Clone, PartialEq)]
pub struct Fixed {
    /// Its name.
    pub name: Name,
    /// Its size in bytes.
    pub size: usize,
}

/// A parsed schema.
#[derive(Debug, Clone, PartialEq)]
pub struct Schema {
    /// The nodes (a parsed schema may keep a few that nothing refers to any more).
    pub nodes: Vec<Node>,
    /// The node that is the schema itself.
    pub root: NodeId,
}

/// Which exception the Java parser throws for a schema it refuses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorClass {
    /// `org.apache.avro.SchemaParseException`: the JSON is not a schema.
    SchemaParse,
    /// `org.apache.avro.AvroTypeException`: a default that is not of its field's type, a type named
    /// after a primitive.
    AvroType,
    /// `org.apache.avro.AvroRuntimeException`: duplicates (fields, union branches), a nested union.
    AvroRuntime,
    /// `java.lang.NullPointerException`: what Avro 1.12.1 throws for a schema that is nothing but a
    /// name it does not know (a name inside a schema gives `AvroTypeException`).
    NullPointer,
}

impl ErrorClass {
    /// The Java class name.
    pub fn java(self) -> &'static str {
        match self {
            ErrorClass::SchemaParse => "org.apache.avro.SchemaParseException",
            ErrorClass::AvroType => "org.apache.avro.AvroTypeException",
            ErrorClass::AvroRuntime => "org.apache.avro.AvroRuntimeException",
            ErrorClass::NullPointer => "java.lang.NullPointerException",
        }
    }
}

/// Why a schema was refused.
#[derive(Debug, Clone, PartialEq)]
pub struct SchemaError {
    /// The exception Java throws for it.
    pub class: ErrorClass,
    /// What is wrong, in words.
    pub message: String,
    /// Where in the schema's JSON, as a JSON pointer (`/fields/2/type`); `None` when the text is
    /// not JSON at all (`line`/`column` say where then).
    pub at: Option<String>,
    /// For text that is not JSON: the 1-based line and column serde_json stopped at.
    pub line_column: Option<(usize, usize)>,
}

impl SchemaError {
    fn new(class: ErrorClass, message: impl Into<String>) -> SchemaError {
        SchemaError { class, message: message.into(), at: None, line_column: None }
    }
}

fn parse_error(message: impl Into<String>) -> SchemaError {
    SchemaError::new(ErrorClass::SchemaParse, message)
}

fn runtime_error(message: impl Into<String>) -> SchemaError {
    SchemaError::new(ErrorClass::AvroRuntime, message)
}

fn type_error(message: impl Into<String>) -> SchemaError {
    SchemaError::new(ErrorClass::AvroType, message)
}

/// A JSON pointer from path tokens.
fn pointer(path: &[String]) -> String {
    path.iter().map(|t| format!("/{}", t.replace('~', "~0").replace('/', "~1"))).collect()
}

fn primitive(name: &str) -> Option<Node> {
    Some(match name {
        "null" => Node::Null,
        "boolean" => Node::Boolean,
        "int" => Node::Int,
        "long" => Node::Long,
        "float" => Node::Float,
        "double" => Node::Double,
        "bytes" => Node::Bytes,
        "string" => Node::String,
        _ => return None,
    })
}

/// Avro's default name rule (`NameValidator.UTF_VALIDATOR`): a letter or `_`, then letters, digits
/// or `_`. Java asks `Character.isLetter` of UTF-16 units; Rust's `is_alphabetic` agrees on every
/// letter a lesson would use.
fn valid_name(name: &str) -> bool {
    let mut chars = name.chars();
    match chars.next() {
        Some(c) if c.is_alphabetic() || c == '_' => chars.all(|c| c.is_alphanumeric() || c == '_'),
        _ => false,
    }
}

fn check_name(name: &str) -> Result<(), SchemaError> {
    if valid_name(name) {
        Ok(())
    } else if name.is_empty() {
        Err(parse_error("Empty name"))
    } else {
        Err(parse_error(format!("Illegal character in: {name}")))
    }
}

fn text<'a>(object: &'a serde_json::Map<String, Json>, key: &str) -> Option<&'a str> {
    object.get(key).and_then(Json::as_str)
}

/// Java's `new Name(name, space)`: a dotted name carries its own namespace; an empty one is none.
fn make_name(name: &str, space: Option<&str>) -> Result<(String, Option<String>), SchemaError> {
    let (space, name) = match name.rfind('.') {
        Some(dot) => (Some(&name[..dot]), &name[dot + 1..]),
        None => (space, name),
    };
    check_name(name)?;
    Ok((name.to_string(), space.filter(|s| !s.is_empty()).map(str::to_string)))
}

fn full_name(name: &str, namespace: Option<&str>) -> String {
    match namespace {
        Some(ns) if !name.contains('.') => format!("{ns}.{name}"),
        _ => name.to_string(),
    }
}

struct Parser {
    nodes: Vec<Node>,
    names: BTreeMap<String, NodeId>,
    /// Where the parser is, as JSON pointer tokens, for the location of an error.
    path: Vec<String>,
    /// Defaults whose types waited for a name: where, the field's name, its type, the default,
    /// and the full names of the records being read when it was met.
    deferred: Vec<(String, String, NodeId, Json, Vec<String>)>,
    /// The records being read (their fields not complete yet), outermost first.
    open: Vec<String>,
    /// Where each pending name was met.
    pending_at: BTreeMap<NodeId, String>,
}

impl Schema {
    /// Parses a schema's JSON text.
    pub fn parse_str(text: &str) -> Result<Schema, SchemaError> {
        let json: Json = serde_json::from_str(text).map_err(|e| SchemaError { line_column: Some((e.line(), e.column())), ..parse_error(format!("not JSON: {e}")) })?;
        Schema::parse(&json)
    }

    /// Parses a schema from its JSON, as `new Schema.Parser().parse(…)` does, with name and default
    /// validation on (Java's defaults).
    pub fn parse(json: &Json) -> Result<Schema, SchemaError> {
        let mut parser = Parser { nodes: Vec::new(), names: BTreeMap::new(), path: Vec::new(), deferred: Vec::new(), open: Vec::new(), pending_at: BTreeMap::new() };
        let root = parser.parse_node(json, None).map_err(|e| parser.locate(e))?;
        let root = parser.resolve(root).map_err(|e| SchemaError { at: e.at.or(Some("/".into())), ..e })?;
        // The deferred defaults are checked against the resolved types. A default that reaches a
        // record still being read when it was met (its field's record, or one around it) fails as
        // Java's does, whose placeholder for that record has no fields yet.
        for (at, field, ty, default, open) in &parser.deferred {
            let resolved = |id: NodeId| match &parser.nodes[id] {
                Node::Pending(full) => parser.names.get(full).copied().unwrap_or(id),
                _ => id,
            };
            let check = Defaults { nodes: &parser.nodes, unfinished: open.iter().filter_map(|r| parser.names.get(r).copied()).collect() };
            if let Some(e) = check.invalid(field, resolved(*ty), default) {
                return Err(SchemaError { at: Some(at.clone()), ..e });
            }
        }
        Ok(Schema { nodes: parser.nodes, root })
    }

    /// The schema's Parsing Canonical Form (`SchemaNormalization.toParsingForm`): full names, only
    /// the attributes that change how data is read, in a fixed order and no white space. Two
    /// schemas with one canonical form read and write the same bytes.
    pub fn canonical(&self) -> String {
        let mut out = String::new();
        self.build(self.root, &mut Vec::new(), &mut out);
        out
    }

    fn build(&self, id: NodeId, seen: &mut Vec<String>, out: &mut String) {
        let list = |out: &mut String, items: &mut dyn Iterator<Item = String>| {
            let items: Vec<String> = items.collect();
            out.push_str(&items.join(","));
        };
        match &self.nodes[id] {
            Node::Union(branches) => {
                out.push('[');
                for (i, b) in branches.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    self.build(*b, seen, out);
                }
                out.push(']');
            }
            Node::Array(items) => {
                out.push_str("{\"type\":\"array\",\"items\":");
                self.build(*items, seen, out);
                out.push('}');
            }
            Node::Map(values) => {
                out.push_str("{\"type\":\"map\",\"values\":");
                self.build(*values, seen, out);
                out.push('}');
            }
            node @ (Node::Record(_) | Node::Enum(_) | Node::Fixed(_)) => {
                let full = self.named(id).map(Name::full).unwrap_or_default();
                if seen.contains(&full) {
                    out.push_str(&format!("\"{full}\""));
                    return;
                }
                seen.push(full.clone());
                out.push_str(&format!("{{\"name\":\"{full}\",\"type\":\"{}\"", self.type_name(id).to_ascii_lowercase()));
                match node {
                    Node::Enum(e) => {
                        out.push_str(",\"symbols\":[");
                        list(out, &mut e.symbols.iter().map(|s| format!("\"{s}\"")));
                        out.push(']');
                    }
                    Node::Fixed(f) => out.push_str(&format!(",\"size\":{}", f.size)),
                    Node::Record(r) => {
                        out.push_str(",\"fields\":[");
                        for (i, f) in r.fields.iter().enumerate() {
                            if i > 0 {
                                out.push(',');
                            }
                            out.push_str(&format!("{{\"name\":\"{}\",\"type\":", f.name));
                            self.build(f.ty, seen, out);
                            out.push('}');
                        }
                        out.push(']');
                    }
                    _ => {}
                }
                out.push('}');
            }
            _ => out.push_str(&format!("\"{}\"", self.type_name(id).to_ascii_lowercase())),
        }
    }

    /// The node at an index.
    pub fn node(&self, id: NodeId) -> &Node {
        &self.nodes[id]
    }

    /// The name of a named node.
    pub fn named(&self, id: NodeId) -> Option<&Name> {
        match &self.nodes[id] {
            Node::Record(r) => Some(&r.name),
            Node::Enum(e) => Some(&e.name),
            Node::Fixed(f) => Some(&f.name),
            _ => None,
        }
    }

    /// Java's `Schema.Type` name of a node (`RECORD`, `INT`…), which compatibility messages print.
    pub fn type_name(&self, id: NodeId) -> &'static str {
        self.nodes[id].type_name()
    }
}

/// Java's `Schema.isValidDefault` over a schema's nodes: a union's default may match any branch
/// (Avro 1.12; the specification says the first, and resolution does use the first).
struct Defaults<'a> {
    nodes: &'a [Node],
    /// The records whose fields Java has not set yet when this default is checked.
    unfinished: Vec<NodeId>,
}

/// How deep a default may nest: defaults that lead back to their own type through other fields'
/// defaults never end (Java's check overflows its stack; here the default is refused).
const MAX_DEFAULT_DEPTH: usize = 64;

impl Defaults<'_> {
    fn invalid(&self, field: &str, ty: NodeId, default: &Json) -> Option<SchemaError> {
        let kind = self.nodes[ty].type_name().to_ascii_lowercase();
        match self.valid(ty, default, 0) {
            Ok(true) => None,
            Ok(false) => Some(type_error(format!("Invalid default for field {field}: {default} not a {kind}"))),
            Err(e) => Some(e),
        }
    }

    fn valid(&self, id: NodeId, json: &Json, depth: usize) -> Result<bool, SchemaError> {
        if depth > MAX_DEFAULT_DEPTH {
            return Ok(false);
        }
        let all = |items: &mut dyn Iterator<Item = (NodeId, &Json)>| -> Result<bool, SchemaError> {
            for (ty, v) in items {
                if !self.valid(ty, v, depth + 1)? {
                    return Ok(false);
                }
            }
            Ok(true)
        };
        Ok(match &self.nodes[id] {
            Node::String | Node::Bytes | Node::Enum(_) | Node::Fixed(_) => json.is_string(),
            Node::Int => json.as_i64().is_some_and(|n| i32::try_from(n).is_ok()),
            Node::Long => json.is_i64() || json.as_u64().is_some_and(|n| i64::try_from(n).is_ok()),
            Node::Float | Node::Double => json.is_number(),
            Node::Boolean => json.is_boolean(),
            Node::Null => json.is_null(),
            Node::Array(items) => match json.as_array() {
                Some(a) => all(&mut a.iter().map(|e| (*items, e)))?,
                None => false,
            },
            Node::Map(values) => match json.as_object() {
                Some(m) => all(&mut m.values().map(|v| (*values, v)))?,
                None => false,
            },
            // A union branch is tried as `isValidValue` tries it: a union inside counts as its
            // branches.
            Node::Union(branches) => {
                for &b in branches {
                    let branch_ok = match &self.nodes[b] {
                        Node::Union(inner) => inner.iter().try_fold(false, |ok, &i| Ok::<bool, SchemaError>(ok || self.valid(i, json, depth + 1)?))?,
                        _ => self.valid(b, json, depth + 1)?,
                    };
                    if branch_ok {
                        return Ok(true);
                    }
                }
                false
            }
            Node::Record(record) => {
                let Some(m) = json.as_object() else { return Ok(false) };
                if self.unfinished.contains(&id) {
                    return Err(runtime_error("Schema fields not set yet"));
                }
                for f in &record.fields {
                    let Some(v) = m.get(&f.name).or(f.default.as_ref()) else { return Ok(false) };
                    let ok = match &self.nodes[f.ty] {
                        Node::Union(branches) => branches.iter().try_fold(false, |ok, &b| Ok::<bool, SchemaError>(ok || self.valid(b, v, depth + 1)?))?,
                        _ => self.valid(f.ty, v, depth + 1)?,
                    };
                    if !ok {
                        return Ok(false);
                    }
                }
                true
            }
            Node::Pending(_) => false,
        })
    }
}

/// Whether a pending name can be reached from a node (its default can then only be checked once
/// the whole schema is read).
fn reaches_pending(nodes: &[Node], id: NodeId, seen: &mut Vec<NodeId>) -> bool {
    if seen.contains(&id) {
        return false;
    }
    seen.push(id);
    match &nodes[id] {
        Node::Pending(_) => true,
        Node::Array(i) | Node::Map(i) => reaches_pending(nodes, *i, seen),
        Node::Union(ids) => ids.iter().any(|i| reaches_pending(nodes, *i, seen)),
        Node::Record(r) => r.fields.iter().any(|f| reaches_pending(nodes, f.ty, seen)),
        _ => false,
    }
}

impl Node {
    /// Java's `Schema.Type` name (`RECORD`, `INT`…).
    pub fn type_name(&self) -> &'static str {
        match self {
            Node::Null => "NULL",
            Node::Boolean => "BOOLEAN",
            Node::Int => "INT",
            Node::Long => "LONG",
            Node::Float => "FLOAT",
            Node::Double => "DOUBLE",
            Node::Bytes => "BYTES",
            Node::String => "STRING",
            Node::Array(_) => "ARRAY",
            Node::Map(_) => "MAP",
            Node::Union(_) => "UNION",
            Node::Record(_) => "RECORD",
            Node::Enum(_) => "ENUM",
            Node::Fixed(_) => "FIXED",
            Node::Pending(_) => "RECORD",
        }
    }

    /// The name a union branch is known by (`getFullName`): a named type's full name (a pending
    /// one's too), otherwise the type's own name.
    fn branch_name(&self) -> String {
        match self {
            Node::Record(r) => r.name.full(),
            Node::Enum(e) => e.name.full(),
            Node::Fixed(f) => f.name.full(),
            Node::Pending(full) => full.clone(),
            other => other.type_name().to_ascii_lowercase(),
        }
    }
}

impl Parser {
    fn push(&mut self, node: Node) -> NodeId {
        self.nodes.push(node);
        self.nodes.len() - 1
    }

    /// `ParseContext.find`: a primitive is a new node; a known name its node; an unknown one a
    /// pending reference, resolved when the whole schema has been read.
    fn find(&mut self, name: &str, namespace: Option<&str>) -> NodeId {
        if let Some(p) = primitive(name) {
            return self.push(p);
        }
        let full = full_name(name, namespace);
        match self.names.get(&full).or_else(|| self.names.get(name)) {
            Some(&id) => id,
            None => {
                let id = self.push(Node::Pending(full));
                self.pending_at.insert(id, if self.path.is_empty() { "/".into() } else { pointer(&self.path) });
                id
            }
        }
    }

    fn define(&mut self, id: NodeId, name: &Name) -> Result<(), SchemaError> {
        let full = name.full();
        if primitive(&full).is_some() {
            return Err(type_error(format!("Schemas may not be named after primitives: {full}")));
        }
        // `ParseContext.requireValidFullName`: every part of the namespace is a name too.
        for part in name.namespace.iter().flat_map(|ns| ns.split('.')) {
            if !valid_name(part) {
                return Err(parse_error(format!("Namespace part \"{part}\" is invalid")));
            }
        }
        if self.names.contains_key(&full) {
            return Err(parse_error(format!("Can't redefine: {full}")));
        }
        self.names.insert(full, id);
        Ok(())
    }

    /// An error's location, if it has none yet: where the parser is.
    fn locate(&self, e: SchemaError) -> SchemaError {
        let at = e.at.clone().unwrap_or_else(|| if self.path.is_empty() { "/".into() } else { pointer(&self.path) });
        SchemaError { at: Some(at), ..e }
    }

    /// Parses the schema under one more path token.
    fn parse_at(&mut self, token: impl Into<String>, json: &Json, namespace: Option<&str>) -> Result<NodeId, SchemaError> {
        self.path.push(token.into());
        let parsed = self.parse_node(json, namespace).map_err(|e| self.locate(e))?;
        self.path.pop();
        Ok(parsed)
    }

    fn parse_node(&mut self, json: &Json, namespace: Option<&str>) -> Result<NodeId, SchemaError> {
        match json {
            Json::String(name) => Ok(self.find(name, namespace)),
            Json::Object(object) => {
                let ty = text(object, "type").ok_or_else(|| parse_error(format!("No type: {json}")))?;
                if let Some(p) = primitive(ty) {
                    return Ok(self.push(p));
                }
                match ty {
                    "record" | "error" => self.parse_record(json, object, namespace),
                    "enum" => self.parse_enum(json, object, namespace),
                    "array" => {
                        let items = object.get("items").ok_or_else(|| parse_error(format!("Array has no items type: {json}")))?;
                        let items = self.parse_at("items", items, namespace)?;
                        Ok(self.push(Node::Array(items)))
                    }
                    "map" => {
                        let values = object.get("values").ok_or_else(|| parse_error(format!("Map has no values type: {json}")))?;
                        let values = self.parse_at("values", values, namespace)?;
                        Ok(self.push(Node::Map(values)))
                    }
                    "fixed" => {
                        let name = self.parse_name(json, object, namespace)?;
                        let size = object
                            .get("size")
                            .and_then(Json::as_i64)
                            .and_then(|n| i32::try_from(n).ok())
                            .ok_or_else(|| parse_error(format!("Invalid or no size: {json}")))?;
                        let size = usize::try_from(size).map_err(|_| runtime_error(format!("Invalid fixed size: {size}")))?;
                        let id = self.push(Node::Fixed(Fixed { name: name.clone(), size }));
                        self.define(id, &name)?;
                        Ok(id)
                    }
                    other => Ok(self.find(other, namespace)),
                }
            }
            Json::Array(branches) => {
                let mut ids = Vec::with_capacity(branches.len());
                for (i, branch) in branches.iter().enumerate() {
                    ids.push(self.parse_at(i.to_string(), branch, namespace)?);
                }
                // Java's `UnionSchema` checks its branches when it is made, a pending name by the
                // full name it will have.
                let mut seen: Vec<String> = Vec::new();
                for &id in &ids {
                    if matches!(self.nodes[id], Node::Union(_)) {
                        return Err(runtime_error("Nested union"));
                    }
                    let name = self.nodes[id].branch_name();
                    if seen.contains(&name) {
                        return Err(runtime_error(format!("Duplicate in union:{name}")));
                    }
                    seen.push(name);
                }
                Ok(self.push(Node::Union(ids)))
            }
            Json::Null => Err(parse_error("Cannot parse <null> schema")),
            other => Err(parse_error(format!("Schema not yet supported: {other}"))),
        }
    }

    fn parse_name(&self, json: &Json, object: &serde_json::Map<String, Json>, namespace: Option<&str>) -> Result<Name, SchemaError> {
        let space = match object.get("namespace") {
            Some(ns) => ns.as_str(),
            None => namespace,
        };
        let given = text(object, "name").ok_or_else(|| parse_error(format!("No name in schema: {json}")))?;
        let (name, namespace) = make_name(given, space)?;
        let mut aliases = Vec::new();
        for alias in aliases_of(object)? {
            let (alias, space) = make_name(&alias, namespace.as_deref())?;
            let full = full_name(&alias, space.as_deref());
            if !aliases.contains(&full) {
                aliases.push(full);
            }
        }
        Ok(Name { name, namespace, aliases })
    }

    fn parse_record(&mut self, json: &Json, object: &serde_json::Map<String, Json>, namespace: Option<&str>) -> Result<NodeId, SchemaError> {
        let name = self.parse_name(json, object, namespace)?;
        let Some(Json::Array(fields_json)) = object.get("fields") else {
            return Err(parse_error(format!("Record has no fields: {json}")));
        };
        let mut fields: Vec<Field> = Vec::with_capacity(fields_json.len());
        self.open.push(name.full());
        for (i, field) in fields_json.iter().enumerate() {
            self.path.extend(["fields".to_string(), i.to_string()]);
            let field = self.parse_field(field, &name, &fields).map_err(|e| self.locate(e))?;
            self.path.truncate(self.path.len() - 2);
            fields.push(field);
        }
        self.open.pop();
        let id = self.push(Node::Record(Record { name: name.clone(), fields }));
        self.define(id, &name)?;
        Ok(id)
    }

    fn parse_field(&mut self, field: &Json, record: &Name, fields: &[Field]) -> Result<Field, SchemaError> {
        let Some(field_object) = field.as_object() else {
            return Err(parse_error(format!("No field name: {field}")));
        };
        let field_name = text(field_object, "name").ok_or_else(|| parse_error(format!("No field name: {field}")))?;
        let ty_json = field_object.get("type").ok_or_else(|| parse_error(format!("No field type: {field}")))?;
        let ty = self.parse_at("type", ty_json, record.namespace.as_deref())?;
        if let Some(order) = field_object.get("order") {
            if !matches!(order.as_str(), Some("ascending" | "descending" | "ignore")) {
                return Err(runtime_error(format!("No enum constant for order {order}")));
            }
        }
        let mut default = field_object.get("default").cloned();
        // Java reads a textual default of a float or double field as the number it spells.
        if let (Some(Json::String(s)), Node::Float | Node::Double) = (&default, &self.nodes[ty]) {
            default = s.parse::<f64>().ok().and_then(serde_json::Number::from_f64).map(Json::Number);
        }
        check_name(field_name)?;
        if fields.iter().any(|f| f.name == field_name) {
            return Err(runtime_error(format!("Duplicate field {field_name} in record {}", record.name)));
        }
        let aliases = aliases_of(field_object)?;
        // Java checks a default as it reads the field; a type still waiting for a name is
        // checked when the schema is complete.
        if let Some(d) = &default {
            if reaches_pending(&self.nodes, ty, &mut Vec::new()) {
                self.deferred.push((pointer(&self.path), field_name.to_string(), ty, d.clone(), self.open.clone()));
            } else if let Some(e) = (Defaults { nodes: &self.nodes, unfinished: Vec::new() }).invalid(field_name, ty, d) {
                return Err(e);
            }
        }
        Ok(Field { name: field_name.to_string(), aliases, ty, default })
    }

    fn parse_enum(&mut self, json: &Json, object: &serde_json::Map<String, Json>, namespace: Option<&str>) -> Result<NodeId, SchemaError> {
        let name = self.parse_name(json, object, namespace)?;
        let Some(Json::Array(symbols_json)) = object.get("symbols") else {
            return Err(parse_error(format!("Enum has no symbols: {json}")));
        };
        let mut symbols: Vec<String> = Vec::with_capacity(symbols_json.len());
        for symbol in symbols_json {
            let symbol = symbol.as_str().ok_or_else(|| parse_error("Null name"))?;
            check_name(symbol)?;
            if symbols.iter().any(|s| s == symbol) {
                return Err(parse_error(format!("Duplicate enum symbol: {symbol}")));
            }
            symbols.push(symbol.to_string());
        }
        let default = object.get("default").and_then(Json::as_str).map(str::to_string);
        if let Some(d) = &default {
            if !symbols.contains(d) {
                return Err(parse_error(format!("The Enum Default: {d} is not in the enum symbol set: [{}]", symbols.join(", "))));
            }
        }
        let id = self.push(Node::Enum(Enum { name: name.clone(), symbols, default }));
        self.define(id, &name)?;
        Ok(id)
    }

    /// Replaces every pending reference with the node its name defines. Returns the root's node.
    fn resolve(&mut self, root: NodeId) -> Result<NodeId, SchemaError> {
        let nodes = std::mem::take(&mut self.nodes);
        let target = |id: NodeId| -> Result<NodeId, SchemaError> {
            match &nodes[id] {
                // As Java's `SchemaResolver`, a pending name is looked up by the full name it was
                // given when met, without `find`'s second try in the null namespace.
                Node::Pending(full) => self.names.get(full).copied().ok_or_else(|| SchemaError { at: self.pending_at.get(&id).cloned(), ..type_error(format!("Undefined schema: {full}")) }),
                _ => Ok(id),
            }
        };
        let mut resolved = nodes.clone();
        for node in &mut resolved {
            match node {
                Node::Array(id) | Node::Map(id) => *id = target(*id)?,
                Node::Union(ids) => {
                    for id in ids.iter_mut() {
                        *id = target(*id)?;
                    }
                }
                Node::Record(r) => {
                    for f in &mut r.fields {
                        f.ty = target(f.ty)?;
                    }
                }
                _ => {}
            }
        }
        let root = target(root).map_err(|e| if matches!(nodes[root], Node::Pending(_)) { SchemaError { class: ErrorClass::NullPointer, ..e } } else { e })?;
        let schema = Schema { nodes: resolved, root };
        self.nodes = schema.nodes;
        Ok(root)
    }
}

fn aliases_of(object: &serde_json::Map<String, Json>) -> Result<Vec<String>, SchemaError> {
    match object.get("aliases") {
        None => Ok(Vec::new()),
        Some(Json::Array(items)) => {
            let mut out: Vec<String> = Vec::new();
            for item in items {
                let alias = item.as_str().ok_or_else(|| parse_error(format!("alias not a string: {item}")))?;
                if !out.iter().any(|a| a == alias) {
                    out.push(alias.to_string());
                }
            }
            Ok(out)
        }
        Some(other) => Err(parse_error(format!("aliases not an array: {other}"))),
    }
}
