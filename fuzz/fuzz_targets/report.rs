//! Fuzz target `report`: see `checks::report` in fuzz/checks.rs for what it feeds and checks.

#![no_main]

#[path = "../checks.rs"]
mod checks;

libfuzzer_sys::fuzz_target!(|data: &[u8]| checks::report(data));
