//! Share links: decoding any text never panics and never inflates past the limit; a link that
//! decodes is encoded back to a link that decodes to the same state.
#![no_main]

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use kafkasim::share;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    // The bytes three ways: as the fragment itself, as a packed body (fuzzing inflation), and
    // deflated into a packed body (fuzzing the TOML inside a link).
    let packed = format!("v2.{}", URL_SAFE_NO_PAD.encode(data));
    let deflated = format!("v2.{}", URL_SAFE_NO_PAD.encode(miniz_oxide::deflate::compress_to_vec(data, 6)));
    for link in [text.as_ref(), packed.as_str(), deflated.as_str()] {
        if let Ok(state) = share::decode(link) {
            let again = share::decode(&share::encode(&state)).expect("an encoded state decodes");
            assert_eq!(again, state);
        }
    }
});
