//! Known encodings from the Avro specification, resolution and every registry level on the
//! classroom's add-a-field and remove-a-field changes.

use super::resolve::{read, ReadError};
use super::*;

fn schema(text: &str) -> Schema {
    Schema::parse_str(text).unwrap_or_else(|e| panic!("{text}: {e:?}"))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[test]
fn ints_and_longs_are_zigzag_varints_as_the_specification_lists() {
    let s = schema(r#""long""#);
    for (n, expected) in [(0, "00"), (-1, "01"), (1, "02"), (-2, "03"), (2, "04"), (-64, "7f"), (64, "8001"), (8192, "808001")] {
        assert_eq!(hex(&encode(&s, &Value::Long(n)).unwrap()), expected, "{n}");
    }
    assert_eq!(hex(&encode(&s, &Value::Long(i64::MIN)).unwrap()), "ffffffffffffffffff01");
}

#[test]
fn the_specifications_record_example_is_five_bytes() {
    let s = schema(r#"{"type":"record","name":"test","fields":[{"name":"a","type":"long"},{"name":"b","type":"string"}]}"#);
    let v = Value::Record(vec![("a".into(), Value::Long(27)), ("b".into(), Value::String("foo".into()))]);
    assert_eq!(hex(&encode(&s, &v).unwrap()), "3606666f6f");
}

#[test]
fn unions_arrays_and_maps_encode_as_the_specification_shows() {
    let union = schema(r#"["null","string"]"#);
    assert_eq!(hex(&encode(&union, &Value::Union(0, Box::new(Value::Null))).unwrap()), "00");
    assert_eq!(hex(&encode(&union, &Value::Union(1, Box::new(Value::String("a".into())))).unwrap()), "020261");
    let array = schema(r#"{"type":"array","items":"long"}"#);
    assert_eq!(hex(&encode(&array, &Value::Array(vec![Value::Long(3), Value::Long(27)])).unwrap()), "04063600");
    let map = schema(r#"{"type":"map","values":"int"}"#);
    assert_eq!(hex(&encode(&map, &Value::Map(vec![])).unwrap()), "00");
    let err = encode(&union, &Value::Union(1, Box::new(Value::Long(1)))).unwrap_err();
    assert_eq!(err.message, "expected string, found long");
}

#[test]
fn a_reader_fills_a_new_field_from_its_default_and_drops_a_removed_one() {
    let v1 = schema(r#"{"type":"record","name":"Order","fields":[{"name":"id","type":"int"},{"name":"note","type":"string"}]}"#);
    let v2 = schema(r#"{"type":"record","name":"Order","fields":[{"name":"id","type":"long"},{"name":"currency","type":"string","default":"EUR"}]}"#);
    let bytes = encode(&v1, &Value::Record(vec![("id".into(), Value::Int(7)), ("note".into(), Value::String("gift".into()))])).unwrap();
    let read_back = read(&v1, &v2, &bytes).unwrap();
    assert_eq!(read_back, Value::Record(vec![("id".into(), Value::Long(7)), ("currency".into(), Value::String("EUR".into()))]));
    let bytes = encode(&v2, &Value::Record(vec![("id".into(), Value::Long(7)), ("currency".into(), Value::String("USD".into()))])).unwrap();
    let err = read(&v2, &v1, &bytes).unwrap_err();
    assert!(matches!(&err, ReadError::Resolution(m) if m == "Found Order, expecting Order, missing required field note"), "{err:?}");
}

#[test]
fn compatibility_reports_avros_types_messages_and_locations() {
    let old = schema(r#"{"type":"record","name":"Order","fields":[{"name":"id","type":"int"}]}"#);
    let new = schema(r#"{"type":"record","name":"Order","fields":[{"name":"id","type":"string"},{"name":"note","type":"string"}]}"#);
    let result = check(&new, &old).unwrap();
    let found: Vec<(&str, &str, &str)> = result.incompatibilities.iter().map(|i| (i.kind.java(), i.message.as_str(), i.location.as_str())).collect();
    assert_eq!(
        found,
        vec![
            ("TYPE_MISMATCH", "reader type: STRING not compatible with writer type: INT", "/fields/0/type"),
            ("READER_FIELD_MISSING_DEFAULT_VALUE", "note", "/fields/1"),
        ]
    );
    assert!(check(&old, &old).unwrap().is_compatible());
}

#[test]
fn each_registry_level_checks_the_direction_and_versions_it_names() {
    let v1 = schema(r#"{"type":"record","name":"R","fields":[{"name":"a","type":"int"}]}"#);
    // v2 adds b with a default: fine both ways.
    let v2 = schema(r#"{"type":"record","name":"R","fields":[{"name":"a","type":"int"},{"name":"b","type":"int","default":0}]}"#);
    // v3 drops a (which had no default) and makes b required: new reads v2 (b there), not v1 (no b);
    // v2 reads v3 (b read, a missing without default: no) — forward fails against v2.
    let v3 = schema(r#"{"type":"record","name":"R","fields":[{"name":"b","type":"int"}]}"#);
    let versions = [v1.clone(), v2.clone()];
    let outcome = |level| registry_level(level, &v3, &versions).iter().map(|f| (f.version, f.new_reads_old)).collect::<Vec<_>>();
    assert_eq!(outcome(Level::None), vec![]);
    assert_eq!(outcome(Level::Backward), vec![]);
    assert_eq!(outcome(Level::BackwardTransitive), vec![(1, true)]);
    assert_eq!(outcome(Level::Forward), vec![(2, false)]);
    assert_eq!(outcome(Level::ForwardTransitive), vec![(2, false), (1, false)]);
    assert_eq!(outcome(Level::Full), vec![(2, false)]);
    assert_eq!(outcome(Level::FullTransitive), vec![(2, false), (1, true), (1, false)]);
    assert!(registry_level(Level::FullTransitive, &v2, &[v1]).is_empty());
    for level in Level::ALL {
        assert_eq!(Level::from_name(level.name()), Some(level));
    }
}

#[test]
fn the_parser_refuses_what_java_refuses_with_its_exception_class() {
    for (text, class) in [
        (r#"{"type":"record","name":"R"}"#, ErrorClass::SchemaParse),
        (r#"{"type":"record","name":"R","fields":[{"name":"a","type":"int","default":"x"}]}"#, ErrorClass::AvroType),
        (r#"{"type":"record","name":"R","fields":[{"name":"a","type":"int"},{"name":"a","type":"long"}]}"#, ErrorClass::AvroRuntime),
        (r#"["int",["long"]]"#, ErrorClass::AvroRuntime),
        (r#"["int","int"]"#, ErrorClass::AvroRuntime),
        (r#"{"type":"enum","name":"E","symbols":["A","A"]}"#, ErrorClass::SchemaParse),
        (r#""Missing""#, ErrorClass::NullPointer),
        (r#"{"type":"array","items":"Missing"}"#, ErrorClass::AvroType),
        (r#"{"type":"fixed","name":"int","size":2}"#, ErrorClass::AvroType),
        (r#"{"type":"record","name":"9R","fields":[]}"#, ErrorClass::SchemaParse),
    ] {
        let err = Schema::parse_str(text).unwrap_err();
        assert_eq!(err.class, class, "{text}: {err:?}");
    }
}

#[test]
fn a_recursive_record_parses_and_is_compatible_with_itself() {
    let list = schema(r#"{"type":"record","name":"Node","fields":[{"name":"v","type":"int"},{"name":"next","type":["null","Node"]}]}"#);
    assert!(check(&list, &list).unwrap().is_compatible());
    let v = Value::Record(vec![
        ("v".into(), Value::Int(1)),
        ("next".into(), Value::Union(1, Box::new(Value::Record(vec![("v".into(), Value::Int(2)), ("next".into(), Value::Union(0, Box::new(Value::Null)))])))),
    ]);
    let bytes = encode(&list, &v).unwrap();
    assert_eq!(hex(&bytes), "02020400");
    assert_eq!(read(&list, &list, &bytes).unwrap(), v);
}

#[test]
fn a_refused_schema_says_where_with_a_json_pointer_or_a_line_and_column() {
    let err = Schema::parse_str(r#"{"type":"record","name":"R","fields":[{"name":"a","type":"int"},{"name":"b","type":{"type":"array","items":"Nope"}}]}"#).unwrap_err();
    assert_eq!((err.class, err.at.as_deref()), (ErrorClass::AvroType, Some("/fields/1/type/items")), "{err:?}");
    let err = Schema::parse_str(r#"{"type":"record","name":"R","fields":[{"name":"a","type":"int"},{"name":"b","type":"int","default":"x"}]}"#).unwrap_err();
    assert_eq!(err.at.as_deref(), Some("/fields/1"));
    let err = Schema::parse_str(r#"{"type":"record","name":"R","fields":[{"name":"u","type":["int",{"type":"map"}]}]}"#).unwrap_err();
    assert_eq!(err.at.as_deref(), Some("/fields/0/type/1"));
    let err = Schema::parse_str("{\"type\":\n  \"record\",,}").unwrap_err();
    assert_eq!((err.at, err.line_column), (None, Some((2, 12))));
}
