#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| synod_core::fuzzing::dns_response_huge(data));
