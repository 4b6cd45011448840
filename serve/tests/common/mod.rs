//! Helpers for the service's tests: a service on a free loopback port, a minimal
//! HTTP/1.1 client over a TCP stream, and a model that blocks until released.
#![allow(dead_code)]

use dialect::{EngineError, Prediction};
use dialect_serve::{Classifier, Limits, Models, ServeConfig, ServedModel, Server, Token};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{mpsc, Arc, Mutex};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// The token the authenticated services use.
pub const TOKEN: &str = "test-token-0123456789";

/// The tiny golden BERT of the engine's tests (three classes: bug, feature_request,
/// general_inquiry).
pub fn tiny_model_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/golden/bert/model")
}

/// The tiny model loaded on the CPU, named `name`.
pub fn tiny_model(name: &str) -> ServedModel {
    let predictor =
        dialect::Predictor::load(&tiny_model_dir(), dialect::DeviceChoice::Cpu).unwrap();
    ServedModel::new(name, predictor)
}

/// The labels `predictor` gives `texts` itself, in order: what the service must answer.
pub fn predicted_labels(predictor: &dialect::Predictor, texts: &[&str]) -> Vec<String> {
    let texts: Vec<String> = texts.iter().map(|t| t.to_string()).collect();
    predictor
        .predict(&texts)
        .unwrap()
        .into_iter()
        .map(|p| p.label)
        .collect()
}

/// A running service and the means to stop it.
pub struct Running {
    pub addr: SocketAddr,
    stop: oneshot::Sender<()>,
    task: JoinHandle<Result<(), dialect_serve::ServeError>>,
}

impl Running {
    /// Ask the service to shut down, and wait until it has.
    pub async fn stop(self) {
        self.stop.send(()).unwrap();
        self.task.await.unwrap().unwrap();
    }

    /// Ask the service to shut down without waiting; the handle ends once it has.
    pub fn begin_stop(self) -> JoinHandle<Result<(), dialect_serve::ServeError>> {
        self.stop.send(()).unwrap();
        self.task
    }
}

/// `models` served on a free loopback port with `limits` (and the token when `auth`).
pub async fn start(models: Vec<ServedModel>, limits: Limits, auth: bool) -> Running {
    let config = ServeConfig {
        bind: "127.0.0.1:0".parse().unwrap(),
        token: auth.then(|| Token::new(TOKEN).unwrap()),
        limits,
    };
    let server = Server::bind(&config, Models::new(models).unwrap())
        .await
        .unwrap();
    let addr = server.local_addr().unwrap();
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(server.run(async {
        let _ = stopped.await;
    }));
    Running { addr, stop, task }
}

/// An HTTP response: status, headers (names lower-cased) and body.
#[derive(Debug)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Response {
    /// The value of header `name` (lower-case), if present.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The body as JSON.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|e| panic!("body is not JSON ({e}): {}", self.body))
    }

    /// The label of each prediction in a JSON classify answer, in order.
    pub fn labels(&self) -> Vec<String> {
        self.json()["predictions"]
            .as_array()
            .unwrap_or_else(|| panic!("no predictions: {}", self.body))
            .iter()
            .map(|p| p["label"].as_str().unwrap().to_string())
            .collect()
    }

    /// The error kind of a JSON error body.
    pub fn error_kind(&self) -> String {
        self.json()["error"]["kind"]
            .as_str()
            .unwrap_or_else(|| panic!("not an error body: {}", self.body))
            .to_string()
    }
}

/// Send one request (`Connection: close`) and read the whole response.
pub async fn send(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Response {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (name, value) in headers {
        head += &format!("{name}: {value}\r\n");
    }
    head += "\r\n";
    stream.write_all(head.as_bytes()).await.unwrap();
    // A server may answer (413) before reading a large body, and close.
    let _ = stream.write_all(body).await;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).await.unwrap();
    parse(&raw)
}

/// Read one response from a connection kept open: its head, then as many body bytes as
/// `Content-Length` says.
pub async fn read_response(stream: &mut TcpStream) -> Response {
    let mut raw = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        let n = stream.read(&mut chunk).await.unwrap();
        assert!(n > 0, "the connection closed mid-response: {raw:?}");
        raw.extend_from_slice(&chunk[..n]);
        let Some(end) = raw.windows(4).position(|w| w == b"\r\n\r\n") else {
            continue;
        };
        let head = parse(&raw[..end + 4]);
        let length: usize = head
            .header("content-length")
            .map_or(0, |l| l.parse().unwrap());
        if raw.len() >= end + 4 + length {
            return parse(&raw);
        }
    }
}

fn parse(raw: &[u8]) -> Response {
    let text = String::from_utf8_lossy(raw);
    let (head, body) = text
        .split_once("\r\n\r\n")
        .unwrap_or_else(|| panic!("no complete response: {text:?}"));
    let mut lines = head.lines();
    let status_line = lines.next().unwrap();
    let status = status_line.split(' ').nth(1).unwrap().parse().unwrap();
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    Response {
        status,
        headers,
        body: body.to_string(),
    }
}

/// `GET path`.
pub async fn get(addr: SocketAddr, path: &str) -> Response {
    send(addr, "GET", path, &[], b"").await
}

/// `POST /v1/classify` with a JSON body.
pub async fn classify(addr: SocketAddr, body: &serde_json::Value) -> Response {
    classify_with(addr, &[], body.to_string().as_bytes()).await
}

/// `POST /v1/classify` with extra headers and a raw body.
pub async fn classify_with(addr: SocketAddr, headers: &[(&str, &str)], body: &[u8]) -> Response {
    let mut all = vec![("Content-Type", "application/json")];
    all.extend_from_slice(headers);
    send(addr, "POST", "/v1/classify", &all, body).await
}

/// A model that, for each batch, says it started and then blocks until released:
/// lets a test hold predictions in flight for as long as it needs.
pub struct GatedModel {
    model: dialect::Predictor,
    started: Mutex<mpsc::Sender<()>>,
    release: Mutex<mpsc::Receiver<()>>,
    batches: Arc<Mutex<Vec<usize>>>,
}

/// The test's ends of a [`GatedModel`]: one message on `started` per batch begun;
/// one send on `release` lets one batch finish; `batches` has each batch's size.
pub struct Gate {
    pub started: mpsc::Receiver<()>,
    pub release: mpsc::Sender<()>,
    pub batches: Arc<Mutex<Vec<usize>>>,
}

impl Gate {
    /// Wait (off the async threads) until a batch has started.
    pub async fn wait_started(&self) {
        tokio::task::block_in_place(|| {
            self.started
                .recv_timeout(std::time::Duration::from_secs(30))
                .expect("a prediction started")
        });
    }
}

impl GatedModel {
    /// The tiny model gated, and its gate.
    pub fn new() -> (Self, Gate) {
        let (started_tx, started_rx) = mpsc::channel();
        let (release_tx, release_rx) = mpsc::channel();
        let batches = Arc::new(Mutex::new(Vec::new()));
        let model = Self {
            model: dialect::Predictor::load(&tiny_model_dir(), dialect::DeviceChoice::Cpu).unwrap(),
            started: Mutex::new(started_tx),
            release: Mutex::new(release_rx),
            batches: Arc::clone(&batches),
        };
        let gate = Gate {
            started: started_rx,
            release: release_tx,
            batches,
        };
        (model, gate)
    }
}

impl Classifier for GatedModel {
    fn labels(&self) -> &[String] {
        self.model.labels()
    }

    fn threshold(&self) -> Option<f64> {
        None
    }

    fn precision(&self) -> &'static str {
        "f32"
    }

    fn classify(&self, texts: &[String]) -> Result<Vec<Prediction>, EngineError> {
        self.batches.lock().unwrap().push(texts.len());
        self.started.lock().unwrap().send(()).unwrap();
        self.release
            .lock()
            .unwrap()
            .recv()
            .map_err(|_| EngineError::Internal("gate dropped".into()))?;
        self.model.predict(texts)
    }
}
