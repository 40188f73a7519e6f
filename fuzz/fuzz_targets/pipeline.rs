//! Any bytes as a tiny tree (split into up to four files at `\n@@\n`): the
//! whole pipeline and every renderer must not panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    mmaudit::fuzzing::check_tiny_tree(data);
});
