//! Differential conformance of `src/sim/avro/` against Apache Avro 1.12.1's Java classes
//! (docs/conformance.md): parsing (`avro_parse`), binary encoding (`avro_encode`), reading with
//! another schema (`avro_resolve`) and the compatibility check Schema Registry's levels are made of
//! (`avro_compat`).
//!
//! Cases are generated from a seeded `ChaCha8Rng`: a random schema (records with primitives, enums,
//! fixed, arrays, maps, unions, nested and recursive records, names with namespaces, a named type
//! used twice), and an evolution of it by the changes a class makes (a field added with or without
//! a default, removed, renamed with or without an alias, its type promoted or changed, made
//! optional; enum symbols added or removed, an enum default; a fixed resized; a record renamed).
//! `KAFKASIM_CONFORMANCE_SEED=N` replaces the default seed.

mod oracle;

use kafkasim::sim::avro::resolve::read;
use kafkasim::sim::avro::{check, encode, Node, NodeId, Schema, Value};
use oracle::conform;
use rand::RngExt;
use rand_chacha::ChaCha8Rng;
use serde_json::{json, Map, Value as Json};
use std::collections::BTreeMap;

const PRIMITIVES: [&str; 8] = ["null", "boolean", "int", "long", "float", "double", "bytes", "string"];

/// Builds random schemas as JSON, remembering each named type's definition so that defaults and
/// later references can be made for it.
struct Gen<'a> {
    rng: &'a mut ChaCha8Rng,
    names: BTreeMap<String, Json>,
    counter: u32,
    /// While evolving, a new field may not refer to a record by name: the record could be the one
    /// the field is added to, which would then contain itself with no way to end.
    evolving: bool,
}

impl Gen<'_> {
    fn fresh(&mut self, prefix: &str) -> String {
        self.counter += 1;
        format!("{prefix}{}", self.counter)
    }

    fn pick<'b, T>(&mut self, items: &'b [T]) -> &'b T {
        &items[self.rng.random_range(0..items.len())]
    }

    fn namespace(&mut self) -> Option<String> {
        match self.rng.random_range(0..6) {
            0 => Some("shop".into()),
            1 => Some("shop.v1".into()),
            _ => None,
        }
    }

    fn named(&mut self, mut def: Map<String, Json>, prefix: &str) -> Json {
        let name = self.fresh(prefix);
        def.insert("name".into(), name.clone().into());
        if let Some(ns) = self.namespace() {
            def.insert("namespace".into(), ns.clone().into());
            self.names.insert(format!("{ns}.{name}"), Json::Object(def.clone()));
        } else {
            self.names.insert(name, Json::Object(def.clone()));
        }
        Json::Object(def)
    }

    /// The named types defined so far (a record is listed once its fields are complete), which a
    /// later field may refer to by name.
    fn full_names(&self) -> Vec<String> {
        self.names.iter().filter(|(_, d)| !(self.evolving && d["type"] == "record")).map(|(n, _)| n.clone()).collect()
    }

    fn ty(&mut self, depth: u32) -> Json {
        let roll = if depth >= 3 { self.rng.random_range(0..10) } else { self.rng.random_range(0..19) };
        match roll {
            0..=9 => {
                let p = *self.pick(&PRIMITIVES[1..]);
                if self.rng.random_bool(0.1) {
                    json!({"type": p})
                } else {
                    p.into()
                }
            }
            10 | 11 => {
                let count = self.rng.random_range(1..=4);
                let symbols: Vec<String> = (0..count).map(|i| ["RED", "GREEN", "BLUE", "AMBER", "GREY"][i].to_string()).collect();
                let mut def = Map::new();
                def.insert("type".into(), "enum".into());
                def.insert("symbols".into(), json!(symbols));
                if self.rng.random_bool(0.3) {
                    def.insert("default".into(), symbols[0].clone().into());
                }
                self.named(def, "Colour")
            }
            12 => {
                let mut def = Map::new();
                def.insert("type".into(), "fixed".into());
                def.insert("size".into(), self.rng.random_range(0..=6).into());
                self.named(def, "Hash")
            }
            13 => json!({"type": "array", "items": self.ty(depth + 1)}),
            14 => json!({"type": "map", "values": self.ty(depth + 1)}),
            15 | 16 => self.union(depth),
            17 => {
                let known = self.full_names();
                if known.is_empty() {
                    "string".into()
                } else {
                    self.pick(&known).clone().into()
                }
            }
            _ => self.record(depth + 1),
        }
    }

    fn union(&mut self, depth: u32) -> Json {
        let mut branches: Vec<Json> = Vec::new();
        let mut kinds: Vec<String> = Vec::new();
        if self.rng.random_bool(0.6) {
            branches.push("null".into());
            kinds.push("null".into());
        }
        for _ in 0..self.rng.random_range(1..=3) {
            let b = self.ty(depth + 1);
            let kind = match &b {
                Json::String(s) => s.clone(),
                Json::Object(o) => match o["type"].as_str() {
                    Some("record" | "enum" | "fixed") => format!("named {}", o["name"]),
                    Some(t) => t.to_string(),
                    None => "?".into(),
                },
                Json::Array(_) => "union".into(),
                _ => "?".into(),
            };
            if kind != "union" && !kinds.contains(&kind) {
                kinds.push(kind);
                branches.push(b);
            }
        }
        if branches.is_empty() {
            branches.push("string".into());
        }
        if self.rng.random_bool(0.2) && branches.len() > 1 && branches[0] == "null" {
            branches.rotate_left(1);
        }
        Json::Array(branches)
    }

    fn record(&mut self, depth: u32) -> Json {
        let name = self.fresh("Rec");
        let ns = self.namespace();
        let full = match &ns {
            Some(ns) => format!("{ns}.{name}"),
            None => name.clone(),
        };
        let mut fields = Vec::new();
        let count = self.rng.random_range(if depth == 0 { 1..=6 } else { 0..=3 });
        for i in 0..count {
            let ty = if depth > 0 && self.rng.random_bool(0.1) { json!(["null", name.clone()]) } else { self.ty(depth) };
            let mut field = json!({"name": format!("f{i}"), "type": ty});
            if self.rng.random_bool(0.3) {
                let d = self.default_for(&field["type"], 0);
                field["default"] = d;
            }
            fields.push(field);
        }
        let mut def = Map::new();
        def.insert("type".into(), "record".into());
        def.insert("name".into(), name.into());
        if let Some(ns) = ns {
            def.insert("namespace".into(), ns.into());
        }
        def.insert("fields".into(), Json::Array(fields));
        self.names.insert(full, Json::Object(def.clone()));
        Json::Object(def)
    }

    fn lookup(&self, name: &str) -> Option<Json> {
        self.names.get(name).cloned().or_else(|| self.names.iter().find(|(n, _)| n.rsplit('.').next() == Some(name)).map(|(_, d)| d.clone()))
    }

    /// A default of a type as a schema writes it: a union's is of its first branch, bytes and fixed
    /// are strings of characters below U+0100.
    fn default_for(&mut self, ty: &Json, depth: u32) -> Json {
        match ty {
            Json::String(s) => match s.as_str() {
                "null" => Json::Null,
                "boolean" => self.rng.random_bool(0.5).into(),
                "int" | "long" => self.rng.random_range(-100..100).into(),
                "float" | "double" => json!(f64::from(self.rng.random_range(-40..40)) / 8.0),
                "string" => self.pick(&["", "EUR", "n/a"]).to_string().into(),
                "bytes" => "\u{0}\u{ff}".into(),
                name => match self.lookup(name) {
                    Some(def) if depth < 4 => self.default_for(&def, depth + 1),
                    _ => Json::Null,
                },
            },
            Json::Array(branches) => match branches.first() {
                Some(b) => self.default_for(&b.clone(), depth + 1),
                None => Json::Null,
            },
            Json::Object(o) => match o.get("type").and_then(Json::as_str) {
                Some("array") => {
                    if self.rng.random_bool(0.5) || depth > 3 {
                        json!([])
                    } else {
                        json!([self.default_for(&o["items"].clone(), depth + 1)])
                    }
                }
                Some("map") => {
                    if self.rng.random_bool(0.5) || depth > 3 {
                        json!({})
                    } else {
                        json!({"k": self.default_for(&o["values"].clone(), depth + 1)})
                    }
                }
                Some("enum") => o["symbols"][0].clone(),
                Some("fixed") => "x".repeat(o["size"].as_u64().unwrap_or(0) as usize).into(),
                Some("record") => {
                    let mut out = Map::new();
                    for f in o.get("fields").and_then(Json::as_array).cloned().unwrap_or_default() {
                        let d = self.default_for(&f["type"], depth + 1);
                        out.insert(f["name"].as_str().unwrap_or("").to_string(), d);
                    }
                    Json::Object(out)
                }
                Some(p) => self.default_for(&Json::String(p.to_string()), depth),
                None => Json::Null,
            },
            _ => Json::Null,
        }
    }

    /// A top-level record schema.
    fn schema(&mut self) -> Json {
        self.record(0)
    }

    /// A top-level record schema the simulator accepts (a generated default can miss its type deep
    /// in a nested record, which the parse kind checks; the other kinds need a valid schema).
    fn valid_schema(&mut self) -> (Json, Schema) {
        loop {
            self.names.clear();
            let json = self.schema();
            if let Ok(schema) = Schema::parse_str(&json.to_string()) {
                return (json, schema);
            }
        }
    }

    /// Changes a schema as a team evolves it: one to three edits at random places.
    fn evolve(&mut self, schema: &Json) -> Json {
        let mut out = schema.clone();
        self.evolving = true;
        for _ in 0..self.rng.random_range(1..=3) {
            let mut records = Vec::new();
            collect_records(&out, String::new(), &mut records);
            let path = self.pick(&records).clone();
            let Some(record) = out.pointer_mut(&path) else { continue };
            self.edit(record);
        }
        self.evolving = false;
        out
    }

    fn edit(&mut self, record: &mut Json) {
        let fields = record["fields"].as_array().cloned().unwrap_or_default();
        let n = fields.len();
        match self.rng.random_range(0..12) {
            0 | 1 => {
                let ty = self.ty(2);
                let mut field = json!({"name": self.fresh("new"), "type": ty});
                if self.rng.random_bool(0.6) {
                    field["default"] = self.default_for(&field["type"].clone(), 0);
                }
                record["fields"].as_array_mut().expect("fields").push(field);
            }
            2 if n > 0 => {
                let i = self.rng.random_range(0..n);
                record["fields"].as_array_mut().expect("fields").remove(i);
            }
            3 if n > 0 => {
                let i = self.rng.random_range(0..n);
                let old = fields[i]["name"].clone();
                let field = &mut record["fields"][i];
                field["name"] = format!("renamed{i}").into();
                if self.rng.random_bool(0.6) {
                    field["aliases"] = json!([old]);
                }
            }
            4 | 5 if n > 0 => {
                let i = self.rng.random_range(0..n);
                let to = match fields[i]["type"].as_str() {
                    Some("int") => *self.pick(&["long", "float", "double", "string"]),
                    Some("long") => *self.pick(&["int", "float", "double"]),
                    Some("float") => *self.pick(&["double", "int"]),
                    Some("double") => *self.pick(&["float", "long"]),
                    Some("string") => *self.pick(&["bytes", "int"]),
                    Some("bytes") => *self.pick(&["string", "boolean"]),
                    _ => *self.pick(&PRIMITIVES[1..]),
                };
                let field = &mut record["fields"][i];
                field["type"] = to.into();
                if let Some(obj) = field.as_object_mut() {
                    obj.remove("default");
                }
            }
            6 if n > 0 => {
                let i = self.rng.random_range(0..n);
                let field = &mut record["fields"][i];
                if !field["type"].is_array() && field["type"] != "null" {
                    field["type"] = json!(["null", field["type"].clone()]);
                    field["default"] = Json::Null;
                }
            }
            7 if n > 0 => {
                let i = self.rng.random_range(0..n);
                let field = &mut record["fields"][i];
                match field.as_object_mut() {
                    Some(obj) if obj.contains_key("default") => {
                        obj.remove("default");
                    }
                    Some(_) => {
                        let d = self.default_for(&field["type"].clone(), 0);
                        field["default"] = d;
                    }
                    None => {}
                }
            }
            8 => {
                let old = record_full_name(record);
                record["name"] = self.fresh("Renamed").into();
                if self.rng.random_bool(0.6) {
                    record["aliases"] = json!([old]);
                }
            }
            9 | 10 if n > 0 => {
                let i = self.rng.random_range(0..n);
                edit_named(&mut record["fields"][i]["type"], self.rng);
            }
            _ => {
                if let Some(obj) = record.as_object_mut() {
                    match obj.get("namespace") {
                        Some(_) => obj.remove("namespace"),
                        None => obj.insert("namespace".into(), "other".into()),
                    };
                }
            }
        }
    }
}

fn record_full_name(record: &Json) -> String {
    match record.get("namespace").and_then(Json::as_str) {
        Some(ns) => format!("{ns}.{}", record["name"].as_str().unwrap_or("")),
        None => record["name"].as_str().unwrap_or("").to_string(),
    }
}

/// Changes an inline enum, fixed or union where a field defines one.
fn edit_named(ty: &mut Json, rng: &mut ChaCha8Rng) {
    match ty {
        Json::Object(o) => match o.get("type").and_then(Json::as_str) {
            Some("enum") => {
                let symbols = o["symbols"].as_array_mut().expect("symbols");
                match rng.random_range(0..4) {
                    0 => symbols.push("VIOLET".into()),
                    1 if symbols.len() > 1 => {
                        let i = rng.random_range(0..symbols.len());
                        let removed = symbols.remove(i);
                        if o.get("default") == Some(&removed) {
                            o.remove("default");
                        }
                    }
                    2 => {
                        let first = symbols[0].clone();
                        o.insert("default".into(), first);
                    }
                    _ => symbols.reverse(),
                }
            }
            Some("fixed") => {
                let size = o["size"].as_u64().unwrap_or(0);
                o.insert("size".into(), (size + 1).into());
            }
            Some("array") => edit_named(o.get_mut("items").expect("items"), rng),
            Some("map") => edit_named(o.get_mut("values").expect("values"), rng),
            _ => {}
        },
        Json::Array(branches) => {
            if branches.len() > 1 && rng.random_bool(0.5) {
                let i = rng.random_range(0..branches.len());
                branches.remove(i);
            } else if !branches.iter().any(|b| b == "string") {
                branches.push("string".into());
            }
        }
        _ => {}
    }
}

/// JSON pointers of every inline record definition.
fn collect_records(json: &Json, at: String, out: &mut Vec<String>) {
    match json {
        Json::Object(o) => {
            if o.get("type").and_then(Json::as_str) == Some("record") && o.contains_key("fields") {
                out.push(at.clone());
            }
            for (k, v) in o {
                collect_records(v, format!("{at}/{k}"), out);
            }
        }
        Json::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                collect_records(v, format!("{at}/{i}"), out);
            }
        }
        _ => {}
    }
}

fn gen(rng: &mut ChaCha8Rng) -> Gen<'_> {
    Gen { rng, names: BTreeMap::new(), counter: 0, evolving: false }
}

// ---------------------------------------------------------------------------------------------
// Values: random values of a parsed schema, and Avro's JSON encoding of them for the Java side.

/// A random value of a node; `None` for a type that only has infinite values (a record that
/// contains itself with no union to end on, which an edit can make).
fn random_value(schema: &Schema, id: NodeId, rng: &mut ChaCha8Rng, depth: u32) -> Option<Value> {
    if depth > 40 {
        return None;
    }
    Some(match schema.node(id) {
        Node::Null => Value::Null,
        Node::Boolean => Value::Boolean(rng.random_bool(0.5)),
        Node::Int => Value::Int(match rng.random_range(0..4) {
            0 => rng.random_range(-64..64),
            1 => rng.random(),
            2 => [i32::MIN, i32::MAX, 0, -1][rng.random_range(0..4)],
            _ => rng.random_range(-100_000..100_000),
        }),
        Node::Long => Value::Long(match rng.random_range(0..4) {
            0 => rng.random_range(-64..64),
            1 => rng.random(),
            2 => [i64::MIN, i64::MAX, 0, -1][rng.random_range(0..4)],
            _ => rng.random_range(-10_000_000_000..10_000_000_000),
        }),
        // Eighths are exact in binary, so the decimal text Java reads is the same number.
        Node::Float => Value::Float(rng.random_range(-80_000..80_000) as f32 / 8.0),
        Node::Double => Value::Double(rng.random_range(-8_000_000_000i64..8_000_000_000) as f64 / 8.0),
        Node::Bytes => Value::Bytes((0..rng.random_range(0..8)).map(|_| rng.random_range(0x20..0x7f)).collect()),
        Node::String => Value::String(random_text(rng)),
        Node::Fixed(f) => Value::Fixed((0..f.size).map(|_| rng.random_range(0x20..0x7f)).collect()),
        Node::Enum(e) => {
            let i = rng.random_range(0..e.symbols.len());
            Value::Enum(i as u32, e.symbols[i].clone())
        }
        Node::Array(items) => {
            let n = if depth > 3 { 0 } else { rng.random_range(0..4) };
            Value::Array((0..n).map(|_| random_value(schema, *items, rng, depth + 1)).collect::<Option<_>>()?)
        }
        Node::Map(values) => {
            let n = if depth > 3 { 0 } else { rng.random_range(0..4) };
            // Sorted distinct keys: the JSON text the Java side reads keeps them in this order.
            let keys: std::collections::BTreeSet<String> = (0..n).map(|i| format!("k{}", i * 7 % 5)).collect();
            Value::Map(keys.into_iter().map(|k| Some((k, random_value(schema, *values, rng, depth + 1)?))).collect::<Option<_>>()?)
        }
        Node::Union(branches) => {
            // Deep in a recursive record, take a branch that ends the recursion if there is one.
            let i = if depth > 4 { branches.iter().position(|b| matches!(schema.node(*b), Node::Null)).unwrap_or(0) } else { rng.random_range(0..branches.len()) };
            Value::Union(i as u32, Box::new(random_value(schema, branches[i], rng, depth + 1)?))
        }
        Node::Record(r) => Value::Record(r.fields.iter().map(|f| Some((f.name.clone(), random_value(schema, f.ty, rng, depth + 1)?))).collect::<Option<_>>()?),
        Node::Pending(_) => Value::Null,
    })
}

fn random_text(rng: &mut ChaCha8Rng) -> String {
    (0..rng.random_range(0..8))
        .map(|_| match rng.random_range(0..6) {
            0 => 'é',
            1 => '語',
            2 => '😀',
            _ => char::from(rng.random_range(0x20u8..0x7f)),
        })
        .collect()
}

/// Avro's JSON encoding (what `JsonDecoder` reads): a union value is `null` or `{"<branch>": v}`.
fn avro_json(schema: &Schema, id: NodeId, value: &Value) -> Json {
    let latin1 = |b: &[u8]| Json::String(b.iter().map(|&c| char::from(c)).collect());
    match (schema.node(id), value) {
        (_, Value::Null) => Json::Null,
        (_, Value::Boolean(b)) => (*b).into(),
        (_, Value::Int(n)) => (*n).into(),
        (_, Value::Long(n)) => (*n).into(),
        (_, Value::Float(f)) => json!(f64::from(*f)),
        (_, Value::Double(f)) => json!(*f),
        (_, Value::Bytes(b) | Value::Fixed(b)) => latin1(b),
        (_, Value::String(s)) => s.clone().into(),
        (_, Value::Enum(_, s)) => s.clone().into(),
        (Node::Array(items), Value::Array(vs)) => vs.iter().map(|v| avro_json(schema, *items, v)).collect(),
        (Node::Map(values), Value::Map(es)) => Json::Object(es.iter().map(|(k, v)| (k.clone(), avro_json(schema, *values, v))).collect()),
        (Node::Union(branches), Value::Union(i, v)) => {
            let b = branches[*i as usize];
            if matches!(schema.node(b), Node::Null) {
                return Json::Null;
            }
            let name = schema.named(b).map(|n| n.full()).unwrap_or_else(|| schema.type_name(b).to_ascii_lowercase());
            json!({ name: avro_json(schema, b, v) })
        }
        (Node::Record(r), Value::Record(fs)) => Json::Object(r.fields.iter().zip(fs).map(|(f, (_, v))| (f.name.clone(), avro_json(schema, f.ty, v))).collect()),
        _ => Json::Null,
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex")).collect()
}

fn parsed(text: &str) -> Schema {
    Schema::parse_str(text).unwrap_or_else(|e| panic!("the generator made a schema the simulator refuses: {e:?}\n{text}"))
}

fn error_class(class: &str) -> Json {
    json!({"error": {"class": class}})
}

/// Compares an error by its class alone (messages are Java's own and not modelled), anything else
/// in full.
fn by_class(answer: &Json) -> Json {
    let mut out = answer.clone();
    if let Some(error) = out.get_mut("error").and_then(Json::as_object_mut) {
        error.remove("message");
    }
    out
}

// ---------------------------------------------------------------------------------------------
// avro_parse: a schema, sometimes broken by one fault → its canonical form, or the exception class.

fn gen_parse(rng: &mut ChaCha8Rng) -> Json {
    let mut g = gen(rng);
    let mut schema = g.schema();
    let fault = g.rng.random_range(0..16);
    let mut records = Vec::new();
    collect_records(&schema, String::new(), &mut records);
    let path = g.pick(&records).clone();
    let record = schema.pointer_mut(&path).expect("a record");
    match fault {
        0 => record["fields"] = json!("none"),
        1 => record["name"] = json!("9lives"),
        2 => record["fields"].as_array_mut().expect("fields").extend([json!({"name": "dup", "type": "int"}), json!({"name": "dup", "type": "long"})]),
        3 => record["fields"].as_array_mut().expect("fields").push(json!({"name": "bad", "type": "int", "default": "seven"})),
        4 => record["fields"].as_array_mut().expect("fields").push(json!({"name": "u", "type": ["int", "int"]})),
        5 => record["fields"].as_array_mut().expect("fields").push(json!({"name": "u", "type": ["int", ["long"]]})),
        6 => record["fields"].as_array_mut().expect("fields").push(json!({"name": "m", "type": "Missing"})),
        7 => record["fields"].as_array_mut().expect("fields").push(json!({"name": "e", "type": {"type": "enum", "name": "Twice", "symbols": ["A", "A"]}})),
        8 => record["fields"].as_array_mut().expect("fields").push(json!({"name": "e", "type": {"type": "enum", "name": "Dflt", "symbols": ["A"], "default": "B"}})),
        9 => record["fields"].as_array_mut().expect("fields").push(json!({"name": "x", "type": {"type": "fixed", "name": "long", "size": 4}})),
        10 => record["fields"].as_array_mut().expect("fields").push(json!({"name": "o", "type": ["null", "int"], "default": 3})),
        _ => {}
    }
    json!({"schema": schema.to_string()})
}

fn sim_parse(case: &Json) -> Json {
    match Schema::parse_str(case["schema"].as_str().expect("schema")) {
        Ok(s) => json!({"canonical": s.canonical()}),
        Err(e) => error_class(e.class.java()),
    }
}

#[test]
fn avro_parse() {
    conform("avro_parse", gen_parse, sim_parse, by_class);
}

// ---------------------------------------------------------------------------------------------
// avro_encode: a schema and a value → the binary encoding.

fn gen_encode(rng: &mut ChaCha8Rng) -> Json {
    let (json, schema) = gen(rng).valid_schema();
    let text = json.to_string();
    let value = random_value(&schema, schema.root, rng, 0).expect("a generated schema has finite values");
    json!({"schema": text, "json": avro_json(&schema, schema.root, &value)})
}

/// The simulator's side reads the value back from the case's JSON through the same generator path:
/// the case carries the Avro JSON, so the value is rebuilt from it with the schema.
fn from_avro_json(schema: &Schema, id: NodeId, json: &Json) -> Option<Value> {
    Some(match (schema.node(id), json) {
        (Node::Null, Json::Null) => Value::Null,
        (Node::Boolean, Json::Bool(b)) => Value::Boolean(*b),
        (Node::Int, Json::Number(n)) => Value::Int(i32::try_from(n.as_i64()?).ok()?),
        (Node::Long, Json::Number(n)) => Value::Long(n.as_i64()?),
        (Node::Float, Json::Number(n)) => Value::Float(n.as_f64()? as f32),
        (Node::Double, Json::Number(n)) => Value::Double(n.as_f64()?),
        (Node::Bytes, Json::String(s)) => Value::Bytes(s.chars().map(|c| c as u8).collect()),
        (Node::Fixed(_), Json::String(s)) => Value::Fixed(s.chars().map(|c| c as u8).collect()),
        (Node::String, Json::String(s)) => Value::String(s.clone()),
        (Node::Enum(e), Json::String(s)) => Value::Enum(e.symbols.iter().position(|x| x == s)? as u32, s.clone()),
        (Node::Array(items), Json::Array(a)) => Value::Array(a.iter().map(|v| from_avro_json(schema, *items, v)).collect::<Option<_>>()?),
        (Node::Map(values), Json::Object(m)) => Value::Map(m.iter().map(|(k, v)| Some((k.clone(), from_avro_json(schema, *values, v)?))).collect::<Option<_>>()?),
        (Node::Union(branches), Json::Null) => Value::Union(branches.iter().position(|b| matches!(schema.node(*b), Node::Null))? as u32, Box::new(Value::Null)),
        (Node::Union(branches), Json::Object(m)) if m.len() == 1 => {
            let (name, v) = m.iter().next()?;
            let i = branches.iter().position(|&b| schema.named(b).map(|n| n.full()).unwrap_or_else(|| schema.type_name(b).to_ascii_lowercase()) == *name)?;
            Value::Union(i as u32, Box::new(from_avro_json(schema, branches[i], v)?))
        }
        (Node::Record(r), Json::Object(m)) => Value::Record(r.fields.iter().map(|f| Some((f.name.clone(), from_avro_json(schema, f.ty, m.get(&f.name)?)?))).collect::<Option<_>>()?),
        _ => return None,
    })
}

fn sim_encode(case: &Json) -> Json {
    let schema = parsed(case["schema"].as_str().expect("schema"));
    let value = from_avro_json(&schema, schema.root, &case["json"]).unwrap_or_else(|| panic!("the case's value does not fit its schema: {case}"));
    match encode(&schema, &value) {
        Ok(bytes) => json!({"hex": hex(&bytes)}),
        Err(e) => json!({"encode_error": e.message}),
    }
}

#[test]
fn avro_encode() {
    conform("avro_encode", gen_encode, sim_encode, by_class);
}

// ---------------------------------------------------------------------------------------------
// avro_resolve: bytes written with one schema, read with an evolution of it (either way round).

fn gen_resolve(rng: &mut ChaCha8Rng) -> Json {
    let mut g = gen(rng);
    let (a, _) = g.valid_schema();
    let b = g.evolve(&a);
    let (writer, reader) = if g.rng.random_bool(0.5) { (a, b) } else { (b, a) };
    if Schema::parse_str(&writer.to_string()).is_err() {
        return gen_resolve_same(g.rng, reader.to_string());
    }
    let (writer, reader) = (writer.to_string(), reader.to_string());
    if Schema::parse_str(&reader).is_err() {
        // An edit can make a schema Avro refuses (a default that no longer fits): compare the
        // writer with itself instead, which still checks resolution of every kind of value.
        return gen_resolve_same(rng, writer);
    }
    let schema = parsed(&writer);
    let Some(value) = random_value(&schema, schema.root, rng, 0) else {
        return gen_resolve_same(rng, reader);
    };
    let bytes = encode(&schema, &value).expect("a generated value fits its schema");
    json!({"writer": writer, "reader": reader, "hex": hex(&bytes)})
}

fn gen_resolve_same(rng: &mut ChaCha8Rng, writer: String) -> Json {
    let schema = parsed(&writer);
    let Some(value) = random_value(&schema, schema.root, rng, 0) else {
        let (json, _) = gen(rng).valid_schema();
        return gen_resolve_same(rng, json.to_string());
    };
    let bytes = encode(&schema, &value).expect("a generated value fits its schema");
    json!({"writer": writer.clone(), "reader": writer, "hex": hex(&bytes)})
}

fn sim_resolve(case: &Json) -> Json {
    let writer = parsed(case["writer"].as_str().expect("writer"));
    let reader = match Schema::parse_str(case["reader"].as_str().expect("reader")) {
        Ok(r) => r,
        Err(e) => return error_class(e.class.java()),
    };
    match read(&writer, &reader, &unhex(case["hex"].as_str().expect("hex"))) {
        Ok(value) => match encode(&reader, &value) {
            Ok(bytes) => json!({"hex": hex(&bytes)}),
            Err(e) => json!({"encode_error": e.message}),
        },
        Err(e) => error_class(e.java()),
    }
}

#[test]
fn avro_resolve() {
    conform("avro_resolve", gen_resolve, sim_resolve, by_class);
}

// ---------------------------------------------------------------------------------------------
// avro_compat: a schema and an evolution of it, checked in both directions.

fn gen_compat(rng: &mut ChaCha8Rng) -> Json {
    let mut g = gen(rng);
    let a = g.schema();
    let b = g.evolve(&a);
    json!({"a": a.to_string(), "b": b.to_string()})
}

fn direction(reader: &Schema, writer: &Schema) -> Json {
    match check(reader, writer) {
        Ok(result) => json!({
            "type": if result.is_compatible() { "COMPATIBLE" } else { "INCOMPATIBLE" },
            "incompatibilities": result.incompatibilities.iter().map(|i| json!({"type": i.kind.java(), "message": i.message, "location": i.location})).collect::<Vec<_>>(),
        }),
        Err(_) => json!({"error": {"class": "org.apache.avro.AvroRuntimeException"}}),
    }
}

fn sim_compat(case: &Json) -> Json {
    let parse = |k: &str| Schema::parse_str(case[k].as_str().expect("schema"));
    let (a, b) = match (parse("a"), parse("b")) {
        (Ok(a), Ok(b)) => (a, b),
        (Err(e), _) | (_, Err(e)) => return error_class(e.class.java()),
    };
    json!({"b_reads_a": direction(&b, &a), "a_reads_b": direction(&a, &b)})
}

#[test]
fn avro_compat() {
    conform("avro_compat", gen_compat, sim_compat, by_class);
}
