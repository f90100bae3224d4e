//! Avro schemas and values from any text: parsing never panics; a schema's canonical form parses to
//! the same form and reads its own data; a value the serializer accepts encodes and reads back
//! equal; any bytes read with a schema fail cleanly or give a value.
#![no_main]

use kafkasim::sim::avro::resolve::read;
use kafkasim::sim::avro::{check, encode, Schema};
use kafkasim::sim::serdes::avro_value;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    // The schema, then after a NUL a value as JSON.
    let (schema_text, value_text) = text.split_once('\u{0}').unwrap_or((&text, ""));
    let Ok(schema) = Schema::parse_str(schema_text) else { return };
    let canonical = schema.canonical();
    let again = Schema::parse_str(&canonical).unwrap_or_else(|e| panic!("the canonical form {canonical} does not parse: {e:?}"));
    assert_eq!(again.canonical(), canonical);
    if let Ok(result) = check(&schema, &schema) {
        assert!(result.is_compatible(), "a schema cannot read its own data: {result:?}");
    }
    if let Ok(json) = serde_json::from_str::<serde_json::Value>(value_text) {
        if let Ok(value) = avro_value(&schema, &json) {
            let bytes = encode(&schema, &value).expect("a value the serializer built fits its schema");
            assert_eq!(read(&schema, &schema, &bytes).expect("its bytes read back"), value);
        }
    }
    let _ = read(&schema, &again, data);
});
