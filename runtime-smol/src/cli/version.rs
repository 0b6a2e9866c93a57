//! `synod version` / `synod --version`.

/// This build's version.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// What `synod version` prints (Consul's shape: a version line, then the protocol line).
pub fn version_text() -> String {
    format!(
        "synod v{VERSION}\nProtocol {} spoken by default (synod peers only; the HTTP and DNS interfaces follow Consul)\n",
        synod_core::wire::WIRE_VERSION
    )
}
