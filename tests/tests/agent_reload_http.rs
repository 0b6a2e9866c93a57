//! `PUT /v1/agent/reload` on a backend without config files (the in-memory one): refused with
//! a 500 and the reason, PUT only.

mod http_support;

use http_support::TestServer;
use synod_runtime_smol::http::ServerConfig;
use synod_runtime_smol::http::backend::NO_RELOAD;

#[test]
fn a_backend_without_config_files_refuses_the_reload_with_a_500() {
    let server = TestServer::start(ServerConfig::default());
    let reply = server.request("PUT", "/v1/agent/reload", b"");
    assert_eq!((reply.status, reply.text()), (500, NO_RELOAD));
}

#[test]
fn reload_is_put_only() {
    let server = TestServer::start(ServerConfig::default());
    let options = server.request("OPTIONS", "/v1/agent/reload", b"");
    assert_eq!(options.status, 200);
    assert_eq!(options.header("Allow"), Some("OPTIONS,PUT"));
    let get = server.request("GET", "/v1/agent/reload", b"");
    assert_eq!((get.status, get.text()), (405, "method GET not allowed"));
}
