//! Where a command's output goes: Consul's `Info` lines to stdout, `Error` lines to stderr.

use std::io::Write;

/// A command's two output streams.
pub struct Ui<'a> {
    out: &'a mut dyn Write,
    err: &'a mut dyn Write,
}

impl<'a> Ui<'a> {
    /// Output to `out`, errors to `err`.
    pub fn new(out: &'a mut dyn Write, err: &'a mut dyn Write) -> Self {
        Ui { out, err }
    }

    /// One line of output (a newline is added).
    pub fn info(&mut self, line: &str) {
        self.info_bytes(line.as_bytes());
    }

    /// Raw bytes as one line of output (KV values need not be UTF-8).
    pub fn info_bytes(&mut self, bytes: &[u8]) {
        let _ = self.out.write_all(bytes);
        let _ = self.out.write_all(b"\n");
    }

    /// One line on the error stream.
    pub fn error(&mut self, line: &str) {
        let _ = self.err.write_all(line.as_bytes());
        let _ = self.err.write_all(b"\n");
    }
}
