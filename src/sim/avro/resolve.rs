//! Reading bytes written with one schema as a value of another: schema resolution as Java's
//! `GenericDatumReader(writer, reader)` does it (Avro 1.12's `Resolver`, the rules its
//! `ResolvingDecoder` follows).
//!
//! Writer names are first renamed by the reader's aliases (`Schema.applyAliases`). Resolution
//! errors are found where the data reaches them, as Java's grammar meets its error symbols: a
//! writer union branch no reader type reads fails only for a datum that takes that branch.

use super::schema::{Node, NodeId, Schema};
use super::value::Value;
use std::collections::BTreeMap;

/// Why a datum could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReadError {
    /// The schemas do not resolve where this datum goes (`AvroTypeException`).
    Resolution(String),
    /// The bytes end before the datum does, or hold something no schema allows (`EOFException`,
    /// `AvroRuntimeException`: a negative length, a union index out of range).
    Malformed(String),
}

impl ReadError {
    /// The Java exception class a reader throws for it.
    pub fn java(&self) -> &'static str {
        match self {
            ReadError::Resolution(_) => "org.apache.avro.AvroTypeException",
            ReadError::Malformed(_) => "java.io.EOFException",
        }
    }

    /// What went wrong, in words.
    pub fn message(&self) -> &str {
        match self {
            ReadError::Resolution(m) | ReadError::Malformed(m) => m,
        }
    }
}

/// Reads one datum written with `writer` as a value of `reader`.
pub fn read(writer: &Schema, reader: &Schema, bytes: &[u8]) -> Result<Value, ReadError> {
    let resolver = Resolver::new(writer, reader);
    let mut input = Input { bytes, at: 0, items: 0 };
    resolver.value(writer.root, reader.root, &mut input)
}

struct Input<'a> {
    bytes: &'a [u8],
    at: usize,
    /// Array and map items read so far: items of a type that takes no bytes (null, an empty
    /// record) could otherwise be claimed by the billion in a few bytes.
    items: usize,
}

/// The most array and map items one datum may hold.
const MAX_ITEMS: usize = 1_000_000;

fn eof() -> ReadError {
    ReadError::Malformed("the datum ends early".into())
}

impl Input<'_> {
    fn byte(&mut self) -> Result<u8, ReadError> {
        let b = *self.bytes.get(self.at).ok_or_else(eof)?;
        self.at += 1;
        Ok(b)
    }

    fn long(&mut self) -> Result<i64, ReadError> {
        let mut z: u64 = 0;
        for shift in (0..64).step_by(7) {
            let b = self.byte()?;
            z |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return Ok((z >> 1) as i64 ^ -((z & 1) as i64));
            }
        }
        Err(ReadError::Malformed("a varint longer than ten bytes".into()))
    }

    fn int(&mut self) -> Result<i32, ReadError> {
        i32::try_from(self.long()?).map_err(|_| ReadError::Malformed("an int out of range".into()))
    }

    fn take(&mut self, n: usize) -> Result<&[u8], ReadError> {
        let end = self.at.checked_add(n).filter(|&e| e <= self.bytes.len()).ok_or_else(eof)?;
        let out = &self.bytes[self.at..end];
        self.at = end;
        Ok(out)
    }

    fn len(&mut self) -> Result<usize, ReadError> {
        usize::try_from(self.long()?).map_err(|_| ReadError::Malformed("a negative length".into()))
    }

    fn bytes(&mut self) -> Result<Vec<u8>, ReadError> {
        let n = self.len()?;
        Ok(self.take(n)?.to_vec())
    }

    fn f32(&mut self) -> Result<f32, ReadError> {
        let b = self.take(4)?;
        Ok(f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    fn f64(&mut self) -> Result<f64, ReadError> {
        let b = self.take(8)?;
        Ok(f64::from_le_bytes(b.try_into().expect("eight bytes")))
    }

    /// The count of the next block of an array or map (a negative count is followed by the block's
    /// size in bytes, which a reader may skip with).
    fn block(&mut self) -> Result<usize, ReadError> {
        let n = self.long()?;
        if n < 0 {
            self.long()?;
        }
        let n = usize::try_from(n.unsigned_abs()).map_err(|_| ReadError::Malformed("a block too large".into()))?;
        self.items = self.items.saturating_add(n);
        if self.items > MAX_ITEMS {
            return Err(ReadError::Malformed(format!("more than {MAX_ITEMS} array or map items")));
        }
        Ok(n)
    }
}

struct Resolver<'a> {
    writer: &'a Schema,
    reader: &'a Schema,
    /// Reader alias (full name) → the reader type's full name.
    aliases: BTreeMap<String, String>,
    /// Reader record (full name, or an alias of it) → field alias → the field's name.
    field_aliases: BTreeMap<String, BTreeMap<String, String>>,
}

impl<'a> Resolver<'a> {
    fn new(writer: &'a Schema, reader: &'a Schema) -> Self {
        let mut aliases = BTreeMap::new();
        let mut field_aliases: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
        for node in &reader.nodes {
            let name = match node {
                Node::Record(r) => &r.name,
                Node::Enum(e) => &e.name,
                Node::Fixed(f) => &f.name,
                _ => continue,
            };
            for alias in &name.aliases {
                aliases.insert(alias.clone(), name.full());
            }
            if let Node::Record(record) = node {
                let mut map = BTreeMap::new();
                for field in &record.fields {
                    for alias in &field.aliases {
                        map.insert(alias.clone(), field.name.clone());
                    }
                }
                if !map.is_empty() {
                    for alias in &name.aliases {
                        field_aliases.insert(alias.clone(), map.clone());
                    }
                    field_aliases.insert(name.full(), map);
                }
            }
        }
        Resolver { writer, reader, aliases, field_aliases }
    }

    /// A writer type's full name after the reader's aliases.
    fn writer_full(&self, w: NodeId) -> Option<String> {
        let full = self.writer.named(w)?.full();
        Some(self.aliases.get(&full).cloned().unwrap_or(full))
    }

    /// The unqualified part of [`Self::writer_full`].
    fn writer_short(&self, w: NodeId) -> Option<String> {
        self.writer_full(w).map(|f| f.rsplit('.').next().unwrap_or(&f).to_string())
    }

    /// A writer field's name after the reader's field aliases for its (renamed) record.
    fn writer_field_name(&self, w: NodeId, field: &str) -> String {
        self.writer_full(w)
            .and_then(|record| self.field_aliases.get(&record))
            .and_then(|map| map.get(field))
            .cloned()
            .unwrap_or_else(|| field.to_string())
    }

    fn found(&self, w: NodeId, r: NodeId) -> String {
        let name = |s: &Schema, id: NodeId| s.named(id).map(|n| n.full()).unwrap_or_else(|| s.type_name(id).to_ascii_lowercase());
        format!("Found {}, expecting {}", self.writer_full(w).unwrap_or_else(|| name(self.writer, w)), name(self.reader, r))
    }

    /// The reader fields a writer record lacks that have no default: `MISSING_REQUIRED_FIELD`.
    fn missing_required(&self, w: NodeId, r: NodeId) -> Option<String> {
        let (Node::Record(wr), Node::Record(rr)) = (self.writer.node(w), self.reader.node(r)) else { return None };
        let names: Vec<String> = wr.fields.iter().map(|f| self.writer_field_name(w, &f.name)).collect();
        rr.fields.iter().rfind(|f| !names.contains(&f.name) && f.default.is_none()).map(|f| f.name.clone())
    }

    /// Whether `Resolver.resolve(w, r)` is itself an `ErrorAction` (what `hasMatchError` asks of a
    /// record's fields).
    fn is_error(&self, w: NodeId, r: NodeId) -> bool {
        let (wn, rn) = (self.writer.node(w), self.reader.node(r));
        if matches!(wn, Node::Union(_)) {
            return false;
        }
        if std::mem::discriminant(wn) == std::mem::discriminant(rn) {
            return match (wn, rn) {
                (Node::Fixed(wf), Node::Fixed(rf)) => self.writer_short(w).as_deref() != Some(rf.name.name.as_str()) || wf.size != rf.size,
                (Node::Enum(_), Node::Enum(re)) => self.writer_short(w).as_deref() != Some(re.name.name.as_str()),
                (Node::Record(_), Node::Record(_)) => self.missing_required(w, r).is_some(),
                _ => false,
            };
        }
        if matches!(rn, Node::Union(_)) {
            return self.first_matching_branch(w, r).is_none();
        }
        !promotes(wn, rn)
    }

    /// `ReaderUnion.firstMatchingBranch`: the same type (a named type by full name, or a record
    /// whose fields resolve, preferring one of the same short name), else the first promotion.
    fn first_matching_branch(&self, w: NodeId, r: NodeId) -> Option<usize> {
        let Node::Union(branches) = self.reader.node(r) else { return None };
        let wn = self.writer.node(w);
        let mut structure: Option<usize> = None;
        for (j, &b) in branches.iter().enumerate() {
            let bn = self.reader.node(b);
            if std::mem::discriminant(wn) != std::mem::discriminant(bn) {
                continue;
            }
            if !matches!(wn, Node::Record(_) | Node::Enum(_) | Node::Fixed(_)) {
                return Some(j);
            }
            let b_full = self.reader.named(b).map(|n| n.full());
            if self.writer_full(w).is_some() && self.writer_full(w) == b_full {
                return Some(j);
            }
            if let (Node::Record(wr), Node::Record(_)) = (wn, bn) {
                let matched = self.missing_required(w, b).is_none()
                    && wr.fields.iter().all(|wf| {
                        let name = self.writer_field_name(w, &wf.name);
                        match self.reader_field(b, &name) {
                            Some(rf) => !self.is_error(wf.ty, rf),
                            None => true,
                        }
                    });
                if matched {
                    let same_short = self.writer_short(w).is_some() && self.writer_short(w).as_deref() == self.reader.named(b).map(|n| n.name.as_str());
                    if structure.is_none() || same_short {
                        structure = Some(j);
                    }
                }
            }
        }
        if structure.is_some() {
            return structure;
        }
        branches.iter().position(|&b| promotes(wn, self.reader.node(b)))
    }

    fn reader_field(&self, r: NodeId, name: &str) -> Option<NodeId> {
        match self.reader.node(r) {
            Node::Record(rr) => rr.fields.iter().find(|f| f.name == name).map(|f| f.ty),
            _ => None,
        }
    }

    /// `unionEquiv`: the same shape, branch by branch, with names compared unqualified.
    fn union_equiv(&self, w: NodeId, r: NodeId, seen: &mut BTreeMap<(NodeId, NodeId), bool>) -> bool {
        let (wn, rn) = (self.writer.node(w), self.reader.node(r));
        if std::mem::discriminant(wn) != std::mem::discriminant(rn) {
            return false;
        }
        if let (Some(wname), Some(rname)) = (self.writer.named(w), self.reader.named(r)) {
            if wname.name != rname.name {
                return false;
            }
        }
        match (wn, rn) {
            (Node::Array(a), Node::Array(b)) | (Node::Map(a), Node::Map(b)) => self.union_equiv(*a, *b, seen),
            (Node::Fixed(a), Node::Fixed(b)) => a.size == b.size,
            (Node::Enum(a), Node::Enum(b)) => a.symbols == b.symbols,
            (Node::Union(a), Node::Union(b)) => a.len() == b.len() && a.iter().zip(b).all(|(x, y)| self.union_equiv(*x, *y, seen)),
            (Node::Record(a), Node::Record(b)) => {
                if let Some(&known) = seen.get(&(w, r)) {
                    return known;
                }
                seen.insert((w, r), true);
                let equal = a.fields.len() == b.fields.len() && a.fields.iter().zip(&b.fields).all(|(x, y)| x.name == y.name && self.union_equiv(x.ty, y.ty, seen));
                seen.insert((w, r), equal);
                equal
            }
            _ => true,
        }
    }

    fn value(&self, w: NodeId, r: NodeId, input: &mut Input) -> Result<Value, ReadError> {
        let (wn, rn) = (self.writer.node(w), self.reader.node(r));
        if let Node::Union(wb) = wn {
            let index = input.long()?;
            let branch = usize::try_from(index).ok().and_then(|i| wb.get(i).copied()).ok_or_else(|| ReadError::Malformed(format!("union index {index} out of range")))?;
            if let Node::Union(rb) = rn {
                if self.union_equiv(w, r, &mut BTreeMap::new()) {
                    let i = usize::try_from(index).expect("checked above");
                    return Ok(Value::Union(i as u32, Box::new(self.value(branch, rb[i], input)?)));
                }
            }
            return self.value(branch, r, input);
        }
        if std::mem::discriminant(wn) == std::mem::discriminant(rn) {
            return self.same_type(w, r, input);
        }
        if matches!(rn, Node::Union(_)) {
            return match self.first_matching_branch(w, r) {
                Some(j) => {
                    let Node::Union(rb) = rn else { unreachable!("matched above") };
                    Ok(Value::Union(j as u32, Box::new(self.value(w, rb[j], input)?)))
                }
                None => Err(ReadError::Resolution(self.found(w, r))),
            };
        }
        Ok(match (wn, rn) {
            (Node::Int, Node::Long) => Value::Long(i64::from(input.int()?)),
            (Node::Int, Node::Float) => Value::Float(input.int()? as f32),
            (Node::Int, Node::Double) => Value::Double(f64::from(input.int()?)),
            (Node::Long, Node::Float) => Value::Float(input.long()? as f32),
            (Node::Long, Node::Double) => Value::Double(input.long()? as f64),
            (Node::Float, Node::Double) => Value::Double(f64::from(input.f32()?)),
            (Node::String, Node::Bytes) => Value::Bytes(input.bytes()?),
            (Node::Bytes, Node::String) => Value::String(String::from_utf8_lossy(&input.bytes()?).into_owned()),
            _ => return Err(ReadError::Resolution(self.found(w, r))),
        })
    }

    fn same_type(&self, w: NodeId, r: NodeId, input: &mut Input) -> Result<Value, ReadError> {
        Ok(match (self.writer.node(w), self.reader.node(r)) {
            (Node::Null, _) => Value::Null,
            (Node::Boolean, _) => Value::Boolean(input.byte()? != 0),
            (Node::Int, _) => Value::Int(input.int()?),
            (Node::Long, _) => Value::Long(input.long()?),
            (Node::Float, _) => Value::Float(input.f32()?),
            (Node::Double, _) => Value::Double(input.f64()?),
            (Node::Bytes, _) => Value::Bytes(input.bytes()?),
            (Node::String, _) => Value::String(String::from_utf8_lossy(&input.bytes()?).into_owned()),
            (Node::Fixed(wf), Node::Fixed(_)) => {
                if self.is_error(w, r) {
                    return Err(ReadError::Resolution(self.found(w, r)));
                }
                Value::Fixed(input.take(wf.size)?.to_vec())
            }
            (Node::Enum(we), Node::Enum(re)) => {
                if self.is_error(w, r) {
                    return Err(ReadError::Resolution(self.found(w, r)));
                }
                let index = input.int()?;
                let symbol = usize::try_from(index).ok().and_then(|i| we.symbols.get(i)).ok_or_else(|| ReadError::Malformed(format!("enum index {index} out of range")))?;
                match re.symbols.iter().position(|s| s == symbol).or_else(|| re.default.as_ref().and_then(|d| re.symbols.iter().position(|s| s == d))) {
                    Some(j) => Value::Enum(j as u32, re.symbols[j].clone()),
                    None => return Err(ReadError::Resolution(format!("No match for {symbol}"))),
                }
            }
            (Node::Array(wi), Node::Array(ri)) => {
                let mut items = Vec::new();
                loop {
                    let n = input.block()?;
                    if n == 0 {
                        break;
                    }
                    for _ in 0..n {
                        items.push(self.value(*wi, *ri, input)?);
                    }
                }
                Value::Array(items)
            }
            (Node::Map(wv), Node::Map(rv)) => {
                let mut entries = Vec::new();
                loop {
                    let n = input.block()?;
                    if n == 0 {
                        break;
                    }
                    for _ in 0..n {
                        let key = String::from_utf8_lossy(&input.bytes()?).into_owned();
                        let value = self.value(*wv, *rv, input)?;
                        // A repeated key replaces the value where the key first stood, as a Java
                        // map's put does.
                        match entries.iter_mut().find(|(k, _): &&mut (String, Value)| *k == key) {
                            Some(entry) => entry.1 = value,
                            None => entries.push((key, value)),
                        }
                    }
                }
                Value::Map(entries)
            }
            (Node::Record(_), Node::Record(_)) => self.record(w, r, input)?,
            _ => return Err(ReadError::Resolution(self.found(w, r))),
        })
    }

    /// A record: the writer's fields in its order (skipping those the reader lacks), then the
    /// reader's defaults, answered in the reader's field order.
    fn record(&self, w: NodeId, r: NodeId, input: &mut Input) -> Result<Value, ReadError> {
        let (Node::Record(wr), Node::Record(rr)) = (self.writer.node(w), self.reader.node(r)) else {
            return Err(ReadError::Resolution(self.found(w, r)));
        };
        if let Some(field) = self.missing_required(w, r) {
            return Err(ReadError::Resolution(format!("{}, missing required field {field}", self.found(w, r))));
        }
        let mut read: BTreeMap<String, Value> = BTreeMap::new();
        for wf in &wr.fields {
            let name = self.writer_field_name(w, &wf.name);
            match rr.fields.iter().find(|f| f.name == name) {
                Some(rf) => {
                    let value = self.value(wf.ty, rf.ty, input)?;
                    read.insert(name, value);
                }
                None => skip(self.writer, wf.ty, input)?,
            }
        }
        let mut fields = Vec::with_capacity(rr.fields.len());
        for rf in &rr.fields {
            match read.remove(&rf.name) {
                Some(value) => fields.push((rf.name.clone(), value)),
                None => {
                    let default = rf.default.as_ref().expect("missing_required found none without a default");
                    let value = Value::from_default(self.reader, rf.ty, default)
                        .ok_or_else(|| ReadError::Resolution(format!("Invalid default for field {}: {default}", rf.name)))?;
                    fields.push((rf.name.clone(), value));
                }
            }
        }
        Ok(Value::Record(fields))
    }
}

/// `Promote.isValid`: the promotions the specification allows.
fn promotes(writer: &Node, reader: &Node) -> bool {
    matches!(
        (writer, reader),
        (Node::Int, Node::Long | Node::Float | Node::Double) | (Node::Long, Node::Float | Node::Double) | (Node::Float, Node::Double) | (Node::String, Node::Bytes) | (Node::Bytes, Node::String)
    )
}

/// Skips a writer field the reader does not have.
fn skip(schema: &Schema, id: NodeId, input: &mut Input) -> Result<(), ReadError> {
    match schema.node(id) {
        Node::Null => {}
        Node::Boolean => {
            input.byte()?;
        }
        Node::Int | Node::Long | Node::Enum(_) => {
            input.long()?;
        }
        Node::Float => {
            input.take(4)?;
        }
        Node::Double => {
            input.take(8)?;
        }
        Node::Bytes | Node::String => {
            input.bytes()?;
        }
        Node::Fixed(f) => {
            input.take(f.size)?;
        }
        Node::Array(items) => loop {
            let n = input.block()?;
            if n == 0 {
                break;
            }
            for _ in 0..n {
                skip(schema, *items, input)?;
            }
        },
        Node::Map(values) => loop {
            let n = input.block()?;
            if n == 0 {
                break;
            }
            for _ in 0..n {
                input.bytes()?;
                skip(schema, *values, input)?;
            }
        },
        Node::Union(branches) => {
            let index = input.long()?;
            let branch = usize::try_from(index).ok().and_then(|i| branches.get(i)).ok_or_else(|| ReadError::Malformed(format!("union index {index} out of range")))?;
            skip(schema, *branch, input)?;
        }
        Node::Record(r) => {
            for f in &r.fields {
                skip(schema, f.ty, input)?;
            }
        }
        Node::Pending(_) => {}
    }
    Ok(())
}
