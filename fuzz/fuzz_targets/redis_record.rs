//! Arbitrary Redis session hashes through the record decoder: never a panic; a decodable
//! record survives an encode/decode round trip unchanged.
#![no_main]

use libfuzzer_sys::fuzz_target;
use session::fuzzing;

fuzz_target!(|data: &[u8]| {
    // Fields and values are separated by 0xff (never in UTF-8), alternating.
    let mut parts = data.split(|&byte| byte == 0xff).map(<[u8]>::to_vec);
    let mut fields = Vec::new();
    while let (Some(field), Some(value)) = (parts.next(), parts.next()) {
        fields.push((field, value));
    }
    fuzzing::redis_record_round_trip(fields);
});
