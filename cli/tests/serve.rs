//! `dialect serve` as a process: it refuses an unprotected public address, answers on
//! loopback, and stops cleanly on SIGTERM.

#[path = "../../tests/common/mod.rs"]
mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};

fn dialect() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_dialect"));
    cmd.env("HF_HUB_OFFLINE", "1")
        .env_remove("DIALECT_SERVE_TOKEN");
    cmd
}

#[test]
fn an_address_off_loopback_without_a_token_is_refused_before_loading() {
    let output = dialect()
        .args(["serve", "no-such-model", "--bind", "0.0.0.0:8080"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("refusing to listen on 0.0.0.0:8080 without a token"),
        "{stderr}"
    );
}

#[test]
fn an_unknown_model_is_a_user_error_saying_where_runs_were_looked_for() {
    let runs = tempfile::tempdir().unwrap();
    let output = dialect()
        .args(["serve", "no-such-run", "--runs-dir"])
        .arg(runs.path())
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("neither a model folder nor a run"),
        "{stderr}"
    );
}

#[test]
fn connection_limits_out_of_bounds_are_refused_naming_the_option() {
    let cases = [
        (
            "--max-connections",
            "0",
            "--max-connections: 0 is out of bounds: use 1 to",
        ),
        (
            "--read-timeout",
            "-1",
            "--read-timeout: -1 is not a number of seconds",
        ),
        (
            "--read-timeout",
            "0.01",
            "--read-timeout: 0.01 s is out of bounds",
        ),
    ];
    for (option, value, says) in cases {
        let output = dialect()
            .args(["serve", "no-such-model", &format!("{option}={value}")])
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(1), "{option} {value}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains(says), "{option} {value}: {stderr}");
    }
}

#[test]
fn two_models_of_one_name_are_refused_before_either_loads() {
    let output = dialect()
        .arg("serve")
        .arg(common::tiny_model("bert"))
        .arg(common::tiny_model("distilbert"))
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("two models are named 'model'"), "{stderr}");
    assert!(!stderr.contains("classes"), "nothing was loaded: {stderr}");
}

#[cfg(unix)]
#[test]
fn serves_on_loopback_and_stops_on_sigterm() {
    let mut child = dialect()
        .arg("serve")
        .arg(common::tiny_model("bert"))
        .args(["--bind", "127.0.0.1:0", "--device", "cpu"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let mut seen = String::new();
    let addr = loop {
        let mut line = String::new();
        if stderr.read_line(&mut line).unwrap() == 0 {
            let _ = child.kill();
            panic!("dialect serve ended before serving: {seen}");
        }
        seen += &line;
        if let Some(rest) = line.strip_prefix("serving on http://") {
            break rest.split_whitespace().next().unwrap().to_string();
        }
    };
    assert!(seen.contains("model model:"), "{seen}");

    let body = r#"{"text": "please add dark mode"}"#;
    let mut stream = TcpStream::connect(&addr).unwrap();
    write!(
        stream,
        "POST /v1/classify HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    assert!(response.contains("\"predictions\":[{"), "{response}");

    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let status = child.wait().unwrap();
    let mut rest = String::new();
    stderr.read_to_string(&mut rest).unwrap();
    assert!(status.success(), "{status}: {rest}");
    assert!(rest.contains("stopped"), "{rest}");
}
