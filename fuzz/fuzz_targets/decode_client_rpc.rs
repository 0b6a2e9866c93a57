#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| synod_core::fuzzing::decode_client_rpc(data));
