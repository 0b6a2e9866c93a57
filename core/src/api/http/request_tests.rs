//! Request parser behaviour: every error path, bodies, limits, keep-alive and pipelining.

use super::*;

fn limits() -> Limits {
    Limits {
        max_head: 256,
        max_headers: 8,
        max_body: 16,
    }
}

fn parse_one(input: &[u8]) -> Result<Progress, ParseError> {
    RequestParser::new(limits()).parse(input)
}

fn done(input: &[u8]) -> (Request, usize) {
    match parse_one(input) {
        Ok(Progress::Done { request, consumed }) => (request, consumed),
        other => panic!("expected a request, got {other:?}"),
    }
}

#[test]
fn parses_a_simple_get_with_decoded_path_and_query() {
    let input = b"GET /v1/kv/a%20b?recurse&separator=%2F HTTP/1.1\r\nHost: x\r\n\r\n";
    let (request, consumed) = done(input);
    assert_eq!(consumed, input.len());
    assert_eq!(request.method, Method::Get);
    assert_eq!(request.version, Version::Http11);
    assert_eq!(request.path, "/v1/kv/a b");
    assert_eq!(request.raw_query, "recurse&separator=%2F");
    assert!(request.query.has("recurse"));
    assert_eq!(request.query.get("separator"), Some("/"));
    assert_eq!(request.header("HOST"), Some(&b"x"[..]));
    assert!(request.keep_alive);
    assert!(request.body.is_empty());
}

#[test]
fn partial_heads_ask_for_more() {
    assert_eq!(
        parse_one(b"GET / HTTP/1.1\r\nHost: x\r\n"),
        Ok(Progress::NeedMore {
            send_continue: false
        })
    );
}

#[test]
fn content_length_body_waits_until_complete() {
    let mut parser = RequestParser::new(limits());
    let input = b"PUT /v1/kv/k HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nbar";
    let head_end = input.len() - 3;
    assert_eq!(
        parser.parse(&input[..head_end + 1]),
        Ok(Progress::NeedMore {
            send_continue: false
        })
    );
    assert!(parser.head_complete());
    assert_eq!(parser.pending_path(), Some("/v1/kv/k"));
    match parser.parse(input) {
        Ok(Progress::Done { request, consumed }) => {
            assert_eq!(request.body, b"bar");
            assert_eq!(consumed, input.len());
        }
        other => panic!("{other:?}"),
    }
    assert!(!parser.head_complete());
}

#[test]
fn chunked_bodies_are_decoded() {
    let input =
        b"PUT /k HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nbar\r\n0\r\n\r\n";
    let (request, consumed) = done(input);
    assert_eq!(request.body, b"bar");
    assert_eq!(consumed, input.len());
}

#[test]
fn pipelined_requests_come_out_one_at_a_time_in_order() {
    let input = b"GET /a HTTP/1.1\r\nHost: x\r\n\r\nPUT /b HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nhiGET /c HTTP/1.1\r\nHost: x\r\n\r\n";
    let mut parser = RequestParser::new(limits());
    let mut start = 0;
    let mut paths = Vec::new();
    while let Ok(Progress::Done { request, consumed }) = parser.parse(&input[start..]) {
        paths.push((request.path, request.body));
        start += consumed;
    }
    assert_eq!(start, input.len());
    assert_eq!(
        paths,
        vec![
            ("/a".to_owned(), vec![]),
            ("/b".to_owned(), b"hi".to_vec()),
            ("/c".to_owned(), vec![])
        ]
    );
}

#[test]
fn expect_continue_is_reported_once_while_the_body_is_missing() {
    let mut parser = RequestParser::new(limits());
    let head = b"PUT /k HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n";
    assert_eq!(
        parser.parse(head),
        Ok(Progress::NeedMore {
            send_continue: true
        })
    );
    assert_eq!(
        parser.parse(head),
        Ok(Progress::NeedMore {
            send_continue: false
        })
    );
}

#[test]
fn keep_alive_follows_version_and_connection_header() {
    let cases: [(&[u8], bool); 5] = [
        (b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", true),
        (
            b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
            false,
        ),
        (
            b"GET / HTTP/1.1\r\nHost: x\r\nConnection: Upgrade, Close\r\n\r\n",
            false,
        ),
        (b"GET / HTTP/1.0\r\n\r\n", false),
        (b"GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n", true),
    ];
    for (input, want) in cases {
        assert_eq!(
            done(input).0.keep_alive,
            want,
            "{}",
            String::from_utf8_lossy(input)
        );
    }
}

#[test]
fn absolute_form_targets_are_reduced_to_their_path() {
    let (request, _) = done(b"GET http://h:8500/v1/kv/a?raw HTTP/1.1\r\nHost: h\r\n\r\n");
    assert_eq!(request.path, "/v1/kv/a");
    assert!(request.query.has("raw"));
}

#[test]
fn unclean_paths_redirect_to_the_clean_path_with_the_query() {
    let (request, _) = done(b"GET //v1//kv/a%20b?recurse HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_eq!(
        request.redirect_location().as_deref(),
        Some("/v1/kv/a%20b?recurse")
    );
    let (clean, _) = done(b"GET /v1/kv/ HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_eq!(clean.redirect_location(), None);
}

fn error_of(input: &[u8]) -> ParseError {
    match parse_one(input) {
        Err(e) => e,
        other => panic!("expected an error, got {other:?}"),
    }
}

#[test]
fn every_malformed_head_is_a_typed_error() {
    let cases: [(&[u8], ParseError, u16); 9] = [
        (
            b"GET / HTTP/2.0\r\n\r\n",
            ParseError::Malformed("malformed HTTP version"),
            400,
        ),
        (
            b"GET / HTTP/1.1\r\nBad Header: x\r\n\r\n",
            ParseError::Malformed("invalid header name"),
            400,
        ),
        (b"GET / HTTP/1.1\r\n\r\n", ParseError::MissingHost, 400),
        (
            b"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
            ParseError::DuplicateHost,
            400,
        ),
        (
            b"GET foo HTTP/1.1\r\nHost: x\r\n\r\n",
            ParseError::BadTarget,
            400,
        ),
        (
            b"GET /%zz HTTP/1.1\r\nHost: x\r\n\r\n",
            ParseError::BadPath(path::DecodeError::BadEscape { at: 1 }),
            400,
        ),
        (
            b"GET /?a=1;b HTTP/1.1\r\nHost: x\r\n\r\n",
            ParseError::BadQuery(QueryError::Semicolon),
            400,
        ),
        (
            b"GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 1x\r\n\r\n",
            ParseError::BadContentLength,
            400,
        ),
        (
            b"GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
            ParseError::BadContentLength,
            400,
        ),
    ];
    for (input, want, status) in cases {
        let got = error_of(input);
        assert_eq!(got, want, "{}", String::from_utf8_lossy(input));
        assert_eq!(got.status(), status);
    }
}

#[test]
fn transfer_encoding_errors() {
    assert_eq!(
        error_of(
            b"PUT / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n"
        ),
        ParseError::LengthAndChunked
    );
    let unsupported =
        error_of(b"PUT / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n");
    assert_eq!(unsupported, ParseError::UnsupportedTransferEncoding);
    assert_eq!(unsupported.status(), 501);
    assert_eq!(
        error_of(b"PUT / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nq\r\n"),
        ParseError::BadChunk("invalid chunk size")
    );
}

#[test]
fn oversize_heads_are_431_even_before_they_end() {
    let mut long = b"GET / HTTP/1.1\r\nHost: x\r\nX-Long: ".to_vec();
    long.extend(std::iter::repeat_n(b'a', 300));
    assert_eq!(error_of(&long), ParseError::HeadTooLarge);
    long.extend_from_slice(b"\r\n\r\n");
    assert_eq!(error_of(&long), ParseError::HeadTooLarge);
    assert_eq!(ParseError::HeadTooLarge.status(), 431);
}

#[test]
fn too_many_headers_is_431() {
    let mut input = b"GET / HTTP/1.1\r\nHost: x\r\n".to_vec();
    for i in 0..8 {
        input.extend_from_slice(format!("X-{i}: y\r\n").as_bytes());
    }
    input.extend_from_slice(b"\r\n");
    assert_eq!(error_of(&input), ParseError::HeadTooLarge);
}

#[test]
fn declared_bodies_over_the_limit_are_413_without_reading_them() {
    let mut parser = RequestParser::new(limits());
    let err = match parser.parse(b"PUT /v1/kv/k HTTP/1.1\r\nHost: x\r\nContent-Length: 17\r\n\r\n")
    {
        Err(e) => e,
        other => panic!("{other:?}"),
    };
    assert_eq!(parser.pending_path(), Some("/v1/kv/k"));
    assert_eq!(
        err,
        ParseError::BodyTooLarge {
            size: 17,
            limit: 16
        }
    );
    assert_eq!(err.status(), 413);
    assert_eq!(
        err.to_string(),
        "Request body(17 bytes) too large, max size: 16 bytes."
    );
}

#[test]
fn chunked_bodies_over_the_limit_are_413() {
    let err = error_of(b"PUT / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n11\r\n");
    assert_eq!(
        err,
        ParseError::BodyTooLarge {
            size: 17,
            limit: 16
        }
    );
}

#[test]
fn fuzz_bodies_accept_arbitrary_bytes() {
    fuzz_request(b"");
    fuzz_request(b"\x05GET / HTTP/1.1\r\nHost: x\r\n\r\nGET /a HTTP/1.1\r\nHost: x\r\n\r\n");
    fuzz_request(
        b"\xffPUT / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nab\r\n0\r\n\r\n",
    );
    fuzz_query(b"a=1&b&a=%20+&c=%zz");
    fuzz_query(b"k%26=v%3D&&x=\xc3\xa9");
}

mod properties {
    use proptest::prelude::*;

    use super::super::*;

    #[derive(Clone, Debug)]
    struct Sent {
        method: &'static str,
        path: String,
        body: Vec<u8>,
        chunked: bool,
    }

    fn sent() -> impl Strategy<Value = Sent> {
        (
            prop::sample::select(vec!["GET", "PUT", "DELETE"]),
            "[a-z0-9]{1,8}(/[a-z0-9]{1,8}){0,3}",
            prop::collection::vec(any::<u8>(), 0..40),
            any::<bool>(),
        )
            .prop_map(|(method, path, body, chunked)| Sent {
                method,
                path: format!("/v1/kv/{path}"),
                body,
                chunked,
            })
    }

    fn wire(request: &Sent) -> Vec<u8> {
        let mut out = format!(
            "{} {} HTTP/1.1\r\nHost: h\r\n",
            request.method, request.path
        );
        if request.chunked {
            out.push_str("Transfer-Encoding: chunked\r\n\r\n");
            let mut bytes = out.into_bytes();
            for piece in request.body.chunks(7) {
                bytes.extend_from_slice(format!("{:x}\r\n", piece.len()).as_bytes());
                bytes.extend_from_slice(piece);
                bytes.extend_from_slice(b"\r\n");
            }
            bytes.extend_from_slice(b"0\r\n\r\n");
            return bytes;
        }
        out.push_str(&format!("Content-Length: {}\r\n\r\n", request.body.len()));
        let mut bytes = out.into_bytes();
        bytes.extend_from_slice(&request.body);
        bytes
    }

    proptest! {
        #[test]
        fn pipelined_requests_parse_the_same_however_the_bytes_arrive(
            requests in prop::collection::vec(sent(), 1..5),
            cuts in prop::collection::vec(1usize..64, 0..20),
        ) {
            let stream: Vec<u8> = requests.iter().flat_map(wire).collect();
            let mut parser = RequestParser::new(Limits::default());
            let mut parsed = Vec::new();
            let mut start = 0;
            let mut available = 0;
            let mut cuts = cuts.into_iter();
            while available < stream.len() {
                available = (available + cuts.next().unwrap_or(stream.len())).min(stream.len());
                while let Progress::Done { request, consumed } =
                    parser.parse(&stream[start..available]).expect("valid stream")
                {
                    start += consumed;
                    parsed.push(request);
                }
            }
            prop_assert_eq!(start, stream.len());
            prop_assert_eq!(parsed.len(), requests.len());
            for (got, want) in parsed.iter().zip(&requests) {
                prop_assert_eq!(got.method.as_str(), want.method);
                prop_assert_eq!(&got.path, &want.path);
                prop_assert_eq!(&got.body, &want.body);
                prop_assert!(got.keep_alive);
            }
        }
    }
}

mod fuzz_smoke {
    use proptest::prelude::*;

    use super::super::*;

    /// Request-shaped noise: a valid prefix followed by arbitrary bytes reaches deeper states.
    fn noisy_request() -> impl Strategy<Value = Vec<u8>> {
        (any::<u8>(), prop::collection::vec(any::<u8>(), 0..200)).prop_map(|(split, tail)| {
            let mut data = vec![split];
            data.extend_from_slice(b"PUT /v1/kv/a?x=%41 HTTP/1.1\r\nHost: h\r\n");
            data.extend(tail);
            data
        })
    }

    proptest! {
        #[test]
        fn fuzz_request_holds_its_invariants_on_noise(data in noisy_request()) {
            fuzz_request(&data);
        }

        #[test]
        fn fuzz_request_holds_its_invariants_on_raw_bytes(
            data in prop::collection::vec(any::<u8>(), 0..300),
        ) {
            fuzz_request(&data);
        }

        #[test]
        fn fuzz_query_round_trips_arbitrary_strings(text in "[a-z%&=+;0-9A-F ]{0,40}") {
            fuzz_query(text.as_bytes());
        }
    }
}
