//! Fuzz target `clean`: see `dossier_fuzz::clean` (server/fuzz/src/lib.rs).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| dossier_fuzz::clean(data));
