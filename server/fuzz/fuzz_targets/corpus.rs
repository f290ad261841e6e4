//! Fuzz target `corpus`: see `dossier_fuzz::corpus` (server/fuzz/src/lib.rs).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| dossier_fuzz::corpus(data));
