//! Fuzz target `tokenize`: see `dossier_fuzz::tokenize` (server/fuzz/src/lib.rs).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| dossier_fuzz::tokenize(data));
