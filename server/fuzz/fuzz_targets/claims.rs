//! Fuzz target `claims`: see `dossier_fuzz::claims` (server/fuzz/src/lib.rs).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| dossier_fuzz::claims(data));
