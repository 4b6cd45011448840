//! "Serve this model" through Tauri's real IPC path (mock runtime, the app's own config
//! and capabilities): a trained run served on loopback answers /v1/classify over HTTP,
//! starting again replaces it, and stopping closes its port.

mod common;

use serde_json::{json, Value};
use std::io::{Read, Write};
use std::net::TcpStream;

/// The `host:port` of a service URL `http://host:port`.
fn address(url: &Value) -> String {
    url.as_str()
        .unwrap()
        .strip_prefix("http://")
        .unwrap_or_else(|| panic!("not an http URL: {url}"))
        .to_string()
}

/// `POST /v1/classify` with `body` over a plain TCP stream: status and JSON body.
fn classify(addr: &str, body: &Value) -> (u16, Value) {
    let body = body.to_string();
    let mut stream = TcpStream::connect(addr).unwrap();
    write!(
        stream,
        "POST /v1/classify HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    let (head, body) = response.split_once("\r\n\r\n").unwrap();
    let status = head.split(' ').nth(1).unwrap().parse().unwrap();
    (status, serde_json::from_str(body).unwrap())
}

#[test]
fn a_run_is_served_on_loopback_answers_classify_and_stops() {
    let app = common::app();
    assert_eq!(app.ok("serving", json!({})), Value::Null);
    let run = app.trained_run();

    let service = app.ok("serve_run", json!({ "runId": run, "port": null }));
    assert_eq!(service["runId"], run.as_str());
    assert_eq!(service["model"], run.as_str());
    let addr = address(&service["url"]);
    assert!(addr.starts_with("127.0.0.1:"), "loopback only: {addr}");
    assert_eq!(app.ok("serving", json!({})), service);

    let (status, answer) = classify(
        &addr,
        &json!({ "text": "the app crashes when i click login" }),
    );
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["model"], run.as_str());
    let label = answer["predictions"][0]["label"].as_str().unwrap();
    assert!(
        ["bug", "feature_request", "general_inquiry"].contains(&label),
        "{answer}"
    );
    let (status, named) = classify(&addr, &json!({ "model": run, "texts": ["a", "b"] }));
    assert_eq!(status, 200, "{named}");
    assert_eq!(named["predictions"].as_array().unwrap().len(), 2);

    // A run without a model is refused, and the service running is left as it is.
    let refused = app
        .call("serve_run", json!({ "runId": "no-such-run", "port": null }))
        .expect_err("no such run");
    assert!(
        refused["message"].as_str().unwrap().contains("no-such-run"),
        "{refused}"
    );
    assert_eq!(app.ok("serving", json!({})), service);
    assert_eq!(classify(&addr, &json!({ "text": "sync crashes" })).0, 200);

    // Starting again replaces the service: the old port closes, the new one answers.
    let again = app.ok("serve_run", json!({ "runId": run, "port": null }));
    let new_addr = address(&again["url"]);
    assert_ne!(new_addr, addr);
    assert!(
        TcpStream::connect(&addr).is_err(),
        "the old service stopped"
    );
    assert_eq!(
        classify(&new_addr, &json!({ "text": "sync crashes" })).0,
        200
    );

    assert_eq!(app.ok("stop_serving", json!({})), Value::Null);
    assert!(TcpStream::connect(&new_addr).is_err(), "the port is closed");
    assert_eq!(app.ok("serving", json!({})), Value::Null);
    assert_eq!(
        app.ok("stop_serving", json!({})),
        Value::Null,
        "stopping when none runs is fine"
    );

    // A port in use is a readable error.
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port();
    let refused = app
        .call("serve_run", json!({ "runId": run, "port": port }))
        .expect_err("the port is taken");
    assert_eq!(refused["kind"], "io", "{refused}");
    let message = refused["message"].as_str().unwrap();
    assert!(message.contains(&format!("127.0.0.1:{port}")), "{message}");
    assert_eq!(app.ok("serving", json!({})), Value::Null);
}
