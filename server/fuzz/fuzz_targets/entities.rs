//! Fuzz target `entities`: see `dossier_fuzz::entities` (server/fuzz/src/lib.rs).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| dossier_fuzz::entities(data));
