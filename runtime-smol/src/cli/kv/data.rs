//! Where `kv put` and `kv import` take their data from: the argument itself, `@file`, or `-`
//! (standard input), as Consul's CLI reads it.

use std::io::Read;

/// The data argument's bytes: `@path` reads the file, `-` reads standard input, anything
/// else (including `-something`) is the data itself.
pub(crate) fn read_data(arg: &str, stdin: &mut dyn Read) -> Result<Vec<u8>, String> {
    if let Some(path) = arg.strip_prefix('@') {
        return std::fs::read(path).map_err(|e| format!("Failed to read file: {e}"));
    }
    if arg == "-" {
        let mut data = Vec::new();
        stdin
            .read_to_end(&mut data)
            .map_err(|e| format!("Failed to read stdin: {e}"))?;
        return Ok(data);
    }
    Ok(arg.as_bytes().to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_comes_from_the_argument_a_file_or_stdin() {
        let mut stdin: &[u8] = b"from stdin";
        assert_eq!(read_data("plain", &mut stdin), Ok(b"plain".to_vec()));
        assert_eq!(read_data("-x", &mut stdin), Ok(b"-x".to_vec()));
        assert_eq!(read_data("-", &mut stdin), Ok(b"from stdin".to_vec()));
        let path = std::env::temp_dir().join(format!("synod-kv-data-{}", std::process::id()));
        std::fs::write(&path, b"from file").expect("write");
        assert_eq!(
            read_data(&format!("@{}", path.display()), &mut stdin),
            Ok(b"from file".to_vec())
        );
        let _ = std::fs::remove_file(&path);
        assert!(
            read_data("@/nonexistent/file", &mut stdin)
                .expect_err("missing")
                .starts_with("Failed to read file: ")
        );
    }
}
