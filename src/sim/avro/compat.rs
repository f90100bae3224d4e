//! Whether a reader schema can read what a writer schema wrote: a port of Avro 1.12's
//! `SchemaCompatibility.checkReaderWriterCompatibility`, with the same incompatibility types,
//! messages and JSON-pointer locations, and the same memo of (reader, writer) pairs that breaks
//! recursion (and makes a named type met twice report the location of its first check).
//!
//! Schema Registry's modes are built on this one check ([`super::registry_level`]).

use super::schema::{Node, NodeId, Schema};
use std::collections::BTreeMap;

/// The kinds of incompatibility Avro reports (`SchemaIncompatibilityType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum IncompatibilityType {
    /// A named type whose name (or aliases) does not match.
    NameMismatch,
    /// Fixed types of different sizes.
    FixedSizeMismatch,
    /// Writer enum symbols the reader lacks, with no reader default.
    MissingEnumSymbols,
    /// A reader field the writer lacks, with no default.
    ReaderFieldMissingDefaultValue,
    /// Types that no promotion joins.
    TypeMismatch,
    /// A writer type (or union branch) no reader union branch reads.
    MissingUnionBranch,
}

impl IncompatibilityType {
    /// Avro's constant name (`READER_FIELD_MISSING_DEFAULT_VALUE`).
    pub fn java(self) -> &'static str {
        match self {
            IncompatibilityType::NameMismatch => "NAME_MISMATCH",
            IncompatibilityType::FixedSizeMismatch => "FIXED_SIZE_MISMATCH",
            IncompatibilityType::MissingEnumSymbols => "MISSING_ENUM_SYMBOLS",
            IncompatibilityType::ReaderFieldMissingDefaultValue => "READER_FIELD_MISSING_DEFAULT_VALUE",
            IncompatibilityType::TypeMismatch => "TYPE_MISMATCH",
            IncompatibilityType::MissingUnionBranch => "MISSING_UNION_BRANCH",
        }
    }
}

/// One incompatibility: its type, Avro's message and where in the reader schema it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Incompatibility {
    /// The kind.
    pub kind: IncompatibilityType,
    /// Avro's message (`reader type: INT not compatible with writer type: STRING`).
    pub message: String,
    /// A JSON pointer into the reader schema (`/fields/1/type`).
    pub location: String,
}

/// The outcome of a check: compatible when `incompatibilities` is empty.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Compatibility {
    /// Every incompatibility found, in Avro's order.
    pub incompatibilities: Vec<Incompatibility>,
}

impl Compatibility {
    /// No incompatibility was found.
    pub fn is_compatible(&self) -> bool {
        self.incompatibilities.is_empty()
    }
}

/// A check Avro itself refuses to finish: a reader field whose name and aliases match more than one
/// writer field (`AvroRuntimeException`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AmbiguousField(pub String);

#[derive(Clone)]
enum Memo {
    InProgress,
    Done(Compatibility),
}

struct Checker<'a> {
    reader: &'a Schema,
    writer: &'a Schema,
    memo: BTreeMap<(NodeId, NodeId), Memo>,
}

/// Can `reader` read every datum `writer` writes?
pub fn check(reader: &Schema, writer: &Schema) -> Result<Compatibility, AmbiguousField> {
    let mut checker = Checker { reader, writer, memo: BTreeMap::new() };
    checker.get(String::new(), reader.root, writer.root, &mut Vec::new())
}

fn merge(mut a: Compatibility, b: Compatibility) -> Compatibility {
    a.incompatibilities.extend(b.incompatibilities);
    a
}

/// `Incompatibility.getLocation`: the path without its root token, escaped as JSON pointer tokens.
fn pointer(location: &[String]) -> String {
    let tokens: Vec<String> = location.iter().skip(1).map(|t| t.replace('~', "~0").replace('/', "~1")).collect();
    format!("/{}", tokens.join("/"))
}

fn one(kind: IncompatibilityType, message: String, location: &[String]) -> Compatibility {
    Compatibility { incompatibilities: vec![Incompatibility { kind, message, location: pointer(location) }] }
}

impl Checker<'_> {
    fn get(&mut self, token: String, r: NodeId, w: NodeId, location: &mut Vec<String>) -> Result<Compatibility, AmbiguousField> {
        location.push(token);
        let result = match self.memo.get(&(r, w)) {
            Some(Memo::InProgress) => Compatibility::default(),
            Some(Memo::Done(result)) => result.clone(),
            None => {
                self.memo.insert((r, w), Memo::InProgress);
                let result = self.calculate(r, w, location)?;
                self.memo.insert((r, w), Memo::Done(result.clone()));
                result
            }
        };
        location.pop();
        Ok(result)
    }

    /// The two-argument `getCompatibility`, which starts a new location (its incompatibilities are
    /// only looked at for whether there are any).
    fn fresh(&mut self, r: NodeId, w: NodeId) -> Result<Compatibility, AmbiguousField> {
        self.get(String::new(), r, w, &mut Vec::new())
    }

    fn type_mismatch(&self, r: NodeId, w: NodeId, location: &[String]) -> Compatibility {
        let message = format!("reader type: {} not compatible with writer type: {}", self.reader.type_name(r), self.writer.type_name(w));
        one(IncompatibilityType::TypeMismatch, message, location)
    }

    fn calculate(&mut self, r: NodeId, w: NodeId, location: &mut Vec<String>) -> Result<Compatibility, AmbiguousField> {
        let (reader, writer) = (self.reader.node(r), self.writer.node(w));
        if std::mem::discriminant(reader) == std::mem::discriminant(writer) {
            return Ok(match (reader, writer) {
                (Node::Array(ri), Node::Array(wi)) => self.get("items".into(), *ri, *wi, location)?,
                (Node::Map(rv), Node::Map(wv)) => self.get("values".into(), *rv, *wv, location)?,
                (Node::Fixed(rf), Node::Fixed(wf)) => {
                    let names = self.names(r, w, location);
                    let mut size = Compatibility::default();
                    if rf.size != wf.size {
                        location.push("size".into());
                        size = one(IncompatibilityType::FixedSizeMismatch, format!("expected: {}, found: {}", wf.size, rf.size), location);
                        location.pop();
                    }
                    merge(names, size)
                }
                (Node::Enum(re), Node::Enum(we)) => {
                    let names = self.names(r, w, location);
                    location.push("symbols".into());
                    let mut missing: Vec<&String> = we.symbols.iter().filter(|s| !re.symbols.contains(s)).collect();
                    missing.sort();
                    missing.dedup();
                    let symbols = if missing.is_empty() || re.default.as_ref().is_some_and(|d| re.symbols.contains(d)) {
                        Compatibility::default()
                    } else {
                        let list: Vec<&str> = missing.iter().map(|s| s.as_str()).collect();
                        one(IncompatibilityType::MissingEnumSymbols, format!("[{}]", list.join(", ")), location)
                    };
                    location.pop();
                    merge(names, symbols)
                }
                (Node::Record(_), Node::Record(_)) => {
                    let names = self.names(r, w, location);
                    let fields = self.fields(r, w, location)?;
                    merge(names, fields)
                }
                (Node::Union(_), Node::Union(wb)) => {
                    let mut result = Compatibility::default();
                    for (i, &branch) in wb.iter().enumerate() {
                        location.push(i.to_string());
                        if !self.fresh(r, branch)?.is_compatible() {
                            let message = format!("reader union lacking writer type: {}", self.writer.type_name(branch));
                            result = merge(result, one(IncompatibilityType::MissingUnionBranch, message, location));
                        }
                        location.pop();
                    }
                    result
                }
                _ => Compatibility::default(),
            });
        }
        if let Node::Union(wb) = writer {
            let mut result = Compatibility::default();
            for (i, &branch) in wb.clone().iter().enumerate() {
                result = merge(result, self.get(i.to_string(), r, branch, location)?);
            }
            return Ok(result);
        }
        let promotable = matches!(
            (reader, writer),
            (Node::Long, Node::Int)
                | (Node::Float, Node::Int | Node::Long)
                | (Node::Double, Node::Int | Node::Long | Node::Float)
                | (Node::Bytes, Node::String)
                | (Node::String, Node::Bytes)
        );
        if promotable {
            return Ok(Compatibility::default());
        }
        if let Node::Union(rb) = reader {
            for &branch in rb.clone().iter() {
                if self.fresh(branch, w)?.is_compatible() {
                    return Ok(Compatibility::default());
                }
            }
            let message = format!("reader union lacking writer type: {}", self.writer.type_name(w));
            return Ok(one(IncompatibilityType::MissingUnionBranch, message, location));
        }
        Ok(self.type_mismatch(r, w, location))
    }

    /// `checkSchemaNames`: the unqualified names are equal, or a reader alias is the writer's full name.
    fn names(&self, r: NodeId, w: NodeId, location: &mut Vec<String>) -> Compatibility {
        let (Some(rn), Some(wn)) = (self.reader.named(r), self.writer.named(w)) else {
            return Compatibility::default();
        };
        if rn.name == wn.name || rn.aliases.contains(&wn.full()) {
            return Compatibility::default();
        }
        location.push("name".into());
        let result = one(IncompatibilityType::NameMismatch, format!("expected: {}", wn.full()), location);
        location.pop();
        result
    }

    /// `checkReaderWriterRecordFields`: every reader field is read from the writer's field of the
    /// same name (or one of its aliases), or has a default.
    fn fields(&mut self, r: NodeId, w: NodeId, location: &mut Vec<String>) -> Result<Compatibility, AmbiguousField> {
        let (Node::Record(reader), Node::Record(writer)) = (self.reader.node(r).clone(), self.writer.node(w).clone()) else {
            return Ok(Compatibility::default());
        };
        let mut result = Compatibility::default();
        location.push("fields".into());
        for (pos, field) in reader.fields.iter().enumerate() {
            location.push(pos.to_string());
            let mut matches = writer.fields.iter().filter(|f| f.name == field.name).chain(field.aliases.iter().filter_map(|a| writer.fields.iter().find(|f| &f.name == a)));
            let first = matches.next();
            if first.is_some() && matches.next().is_some() {
                return Err(AmbiguousField(field.name.clone()));
            }
            match first {
                Some(wf) => result = merge(result, self.get("type".into(), field.ty, wf.ty, location)?),
                None if field.default.is_some() => {}
                None => {
                    let enum_default = matches!(self.reader.node(field.ty), Node::Enum(e) if e.default.is_some());
                    let found = if enum_default {
                        self.get("type".into(), field.ty, w, location)?
                    } else {
                        one(IncompatibilityType::ReaderFieldMissingDefaultValue, field.name.clone(), location)
                    };
                    result = merge(result, found);
                }
            }
            location.pop();
        }
        location.pop();
        Ok(result)
    }
}
