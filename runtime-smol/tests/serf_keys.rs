//! `synod keygen` and the keyring file `<data-dir>/serf/local.keyring`.

use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use synod_runtime_smol::serf::{
    KeyringFileError, keygen, keyring_path, load_keys, load_or_init_keyring, save_keys,
};

/// A fresh directory under the system temp dir, unique to this test.
fn scratch_dir(test: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("synod-serf-{test}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir writable");
    dir
}

#[test]
fn keygen_prints_distinct_base64_32_byte_keys() {
    let a = keygen().expect("OS randomness");
    let b = keygen().expect("OS randomness");
    assert_ne!(a, b);
    for key in [&a, &b] {
        assert_eq!(key.len(), 44);
        assert_eq!(BASE64.decode(key).expect("valid base64").len(), 32);
    }
}

#[test]
fn keyring_file_round_trips_and_is_private() {
    let dir = scratch_dir("roundtrip");
    let path = keyring_path(&dir);
    assert_eq!(path, dir.join("serf").join("local.keyring"));
    assert!(load_keys(&path).expect("absent is fine").is_none());
    let keys = vec![keygen().expect("key"), keygen().expect("key")];
    save_keys(&path, &keys).expect("writable");
    assert_eq!(load_keys(&path).expect("readable"), Some(keys.clone()));
    let text = std::fs::read_to_string(&path).expect("readable");
    assert_eq!(text, serde_json::to_string(&keys).expect("json"));
    let mode = std::fs::metadata(&path)
        .expect("exists")
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn existing_keyring_file_wins_over_the_encrypt_option() {
    let dir = scratch_dir("precedence");
    assert!(load_or_init_keyring(&dir, None).expect("no key").is_none());
    let first = keygen().expect("key");
    let ring = load_or_init_keyring(&dir, Some(&first)).expect("writes the file");
    assert_eq!(ring.map(|r| r.primary_base64()), Some(first.clone()));
    let second = keygen().expect("key");
    let ring = load_or_init_keyring(&dir, Some(&second)).expect("reads the file");
    assert_eq!(ring.map(|r| r.primary_base64()), Some(first.clone()));
    assert_eq!(
        load_keys(&keyring_path(&dir)).expect("readable"),
        Some(vec![first])
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// Recognises the error a bad file must produce.
type IsExpected = fn(&KeyringFileError) -> bool;

#[test]
fn bad_keyring_files_are_typed_errors() {
    let dir = scratch_dir("bad");
    let path = keyring_path(&dir);
    std::fs::create_dir_all(path.parent().expect("has parent")).expect("writable");
    let cases: [(&str, IsExpected); 3] = [
        ("{not json", |e| matches!(e, KeyringFileError::Format(_))),
        ("[]", |e| matches!(e, KeyringFileError::Empty)),
        (r#"["c2hvcnQ="]"#, |e| {
            matches!(e, KeyringFileError::BadKey(_))
        }),
    ];
    for (text, expected) in cases {
        std::fs::write(&path, text).expect("writable");
        let err = load_keys(&path).expect_err(text);
        assert!(expected(&err), "{text}: {err}");
    }
    assert!(matches!(
        save_keys(&path, &["nope".to_owned()]),
        Err(KeyringFileError::BadKey(_))
    ));
    let _ = std::fs::remove_dir_all(&dir);
}
