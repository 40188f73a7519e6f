//! Any bytes as one C file: decoding, parsing, fact extraction and the
//! analysis of that file alone must not panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    mmaudit::fuzzing::check_one_file(data);
});
