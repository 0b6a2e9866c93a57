//! The embedded web UI: `/` sends browsers to `/ui/`, the assets are served from the binary,
//! app routes fall back to the page, and with the UI off `/` says how to turn it on.

mod http_support;

use http_support::TestServer;
use synod_runtime_smol::http::{MemoryBackend, ServerConfig};

fn server(ui: bool) -> TestServer<MemoryBackend> {
    TestServer::start(ServerConfig {
        ui,
        ..ServerConfig::default()
    })
}

#[test]
fn root_redirects_to_the_ui() {
    let s = server(true);
    for path in ["/", "/ui"] {
        let reply = s.request("GET", path, b"");
        assert_eq!(reply.status, 301, "{path}");
        assert_eq!(reply.header("Location"), Some("/ui/"), "{path}");
    }
}

#[test]
fn ui_page_and_assets_are_served_with_their_types() {
    let s = server(true);
    let page = s.request("GET", "/ui/", b"");
    assert_eq!(page.status, 200);
    assert_eq!(
        page.header("Content-Type"),
        Some("text/html; charset=utf-8")
    );
    assert!(
        page.text()
            .contains(r#"<script type="module" src="/ui/app.js">"#)
    );
    for (path, content_type, marker) in [
        (
            "/ui/app.js",
            "text/javascript; charset=utf-8",
            "import * as render",
        ),
        (
            "/ui/render.js",
            "text/javascript; charset=utf-8",
            "export function servicesPage",
        ),
        ("/ui/app.css", "text/css; charset=utf-8", "--critical"),
    ] {
        let reply = s.request("GET", path, b"");
        assert_eq!(reply.status, 200, "{path}");
        assert_eq!(reply.header("Content-Type"), Some(content_type), "{path}");
        assert!(reply.text().contains(marker), "{path}");
    }
}

#[test]
fn unknown_ui_paths_fall_back_to_the_page() {
    let s = server(true);
    let reply = s.request("GET", "/ui/dc1/services/web", b"");
    assert_eq!(reply.status, 200);
    assert!(reply.text().starts_with("<!doctype html>"));
}

#[test]
fn ui_rejects_writes() {
    let s = server(true);
    let reply = s.request("PUT", "/ui/", b"x");
    assert_eq!(
        (reply.status, reply.text()),
        (405, "method PUT not allowed")
    );
    assert_eq!(reply.header("Allow"), Some("GET,HEAD"));
}

#[test]
fn disabled_ui_explains_how_to_enable_it() {
    let s = server(false);
    let root = s.request("GET", "/", b"");
    assert_eq!(root.status, 200);
    assert!(root.text().contains("set ui_config.enabled=true"));
    assert_eq!(s.request("GET", "/ui/", b"").status, 404);
}

#[test]
fn api_paths_are_unaffected_by_the_ui() {
    let s = server(true);
    assert_eq!(s.request("GET", "/v1/status/leader", b"").status, 200);
}
