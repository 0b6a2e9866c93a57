use std::time::Duration;

use crate::health::duration::{format_go_duration, parse_go_duration};

#[test]
fn go_durations_parse_like_go() {
    let cases = [
        ("10s", Duration::from_secs(10)),
        ("1m30s", Duration::from_secs(90)),
        ("1.5h", Duration::from_secs(5400)),
        ("250ms", Duration::from_millis(250)),
        ("1h2m3s4ms5us6ns", Duration::new(3723, 4_005_006)),
        ("3µs", Duration::from_micros(3)),
        ("0", Duration::ZERO),
        ("+2s", Duration::from_secs(2)),
        (".5s", Duration::from_millis(500)),
    ];
    for (text, want) in cases {
        assert_eq!(parse_go_duration(text), Ok(want), "{text}");
    }
}

#[test]
fn malformed_durations_are_errors() {
    for text in [
        "",
        "10",
        "s",
        "1x",
        "-1s",
        "1..2s",
        "ten seconds",
        "9999999999999999h",
        ".",
    ] {
        assert!(parse_go_duration(text).is_err(), "{text:?}");
    }
}

#[test]
fn durations_format_like_go() {
    let cases = [
        (Duration::ZERO, "0s"),
        (Duration::from_secs(10), "10s"),
        (Duration::from_secs(90), "1m30s"),
        (Duration::from_secs(3600), "1h0m0s"),
        (Duration::from_millis(1500), "1.5s"),
        (Duration::from_millis(250), "250ms"),
        (Duration::from_micros(3), "3µs"),
    ];
    for (d, want) in cases {
        assert_eq!(format_go_duration(d), want);
        assert_eq!(parse_go_duration(want), Ok(d));
    }
}
