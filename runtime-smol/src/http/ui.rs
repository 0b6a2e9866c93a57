//! The embedded web UI: static assets under `/ui/`, and `/` sending browsers there. Assets are
//! compiled into the binary so the UI needs no files on disk. Any other `/ui/...` path answers
//! the page itself, so links into the app (`/ui/#/services/web`, reloads) keep working.

use synod_core::api::http::{Method, Request, Response};

/// Served when the UI is off and someone opens `/` (Consul answers the same way, with 200).
const DISABLED: &str = "synod Agent: UI disabled. To enable, set ui_config.enabled=true in the \
agent configuration and restart.";

struct Asset {
    path: &'static str,
    content_type: &'static str,
    body: &'static str,
}

const INDEX: Asset = Asset {
    path: "/ui/",
    content_type: "text/html; charset=utf-8",
    body: include_str!("../../ui/index.html"),
};

const ASSETS: &[Asset] = &[
    INDEX,
    Asset {
        path: "/ui/app.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_str!("../../ui/app.js"),
    },
    Asset {
        path: "/ui/render.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_str!("../../ui/render.js"),
    },
    Asset {
        path: "/ui/app.css",
        content_type: "text/css; charset=utf-8",
        body: include_str!("../../ui/app.css"),
    },
];

/// Whether `path` belongs to the UI (and not to the API).
pub fn owns(path: &str) -> bool {
    path == "/" || path == "/ui" || path.starts_with("/ui/")
}

/// Answers a request for a path [`owns`] accepts; `Err` carries the location to redirect to.
pub fn serve(request: &Request, enabled: bool) -> Result<Response, String> {
    if !matches!(request.method, Method::Get | Method::Head) {
        let message = format!("method {} not allowed", request.method.as_str());
        return Ok(Response::text(405, &message).with_header("Allow", "GET,HEAD"));
    }
    if !enabled {
        return Ok(if request.path == "/" {
            Response::text(200, DISABLED)
        } else {
            Response::text(404, "404 page not found")
        });
    }
    if request.path == "/" || request.path == "/ui" {
        return Err("/ui/".to_owned());
    }
    let asset = ASSETS
        .iter()
        .find(|a| a.path == request.path)
        .unwrap_or(&INDEX);
    Ok(Response::empty(200)
        .with_body(asset.content_type, asset.body.as_bytes().to_vec())
        // The assets change with the binary; make browsers ask again after an upgrade.
        .with_header("Cache-Control", "no-cache")
        .with_header("X-Content-Type-Options", "nosniff"))
}
