//! The service over HTTP on a loopback port: answers, limits, authentication and
//! graceful shutdown, with the engine's tiny golden model.

mod common;

use common::{classify, classify_with, get, start, GatedModel, TOKEN};
use dialect_serve::{Limits, Models, ServeConfig, ServeError, ServedModel, Server, Token};
use serde_json::json;

fn limits() -> Limits {
    Limits::default()
}

#[tokio::test(flavor = "multi_thread")]
async fn classifies_one_text_and_many_with_the_default_or_a_named_model() {
    let server = start(
        vec![common::tiny_model("first"), common::tiny_model("second")],
        limits(),
        false,
    )
    .await;
    let direct =
        dialect::Predictor::load(&common::tiny_model_dir(), dialect::DeviceChoice::Cpu).unwrap();

    let one = classify(
        server.addr,
        &json!({ "text": "the app crashes when i click login" }),
    )
    .await;
    assert_eq!(one.status, 200, "{}", one.body);
    let body = one.json();
    assert_eq!(
        body["model"], "first",
        "no model named: the first one answers"
    );
    let predictions = body["predictions"].as_array().unwrap();
    assert_eq!(predictions.len(), 1);
    let expected = direct
        .predict(&["the app crashes when i click login".to_string()])
        .unwrap();
    assert_eq!(predictions[0]["label"], expected[0].label.as_str());
    let scores = predictions[0]["scores"].as_array().unwrap();
    assert_eq!(scores.len(), 3);
    for (served, own) in scores.iter().zip(&expected[0].scores) {
        assert_eq!(served["label"], own.label.as_str());
        let probability = served["probability"].as_f64().unwrap();
        assert!((probability - f64::from(own.probability)).abs() < 1e-6);
    }

    let texts = [
        "please add dark mode",
        "how do i reset my password",
        "sync crashes",
    ];
    let many = classify(server.addr, &json!({ "model": "second", "texts": texts })).await;
    assert_eq!(many.status, 200, "{}", many.body);
    assert_eq!(many.json()["model"], "second");
    assert_eq!(
        many.labels(),
        common::predicted_labels(&direct, &texts),
        "one prediction per text, in order"
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn lists_its_models_and_answers_health_checks() {
    let server = start(
        vec![common::tiny_model("first"), common::tiny_model("second")],
        limits(),
        false,
    )
    .await;
    let models = get(server.addr, "/v1/models").await;
    assert_eq!(models.status, 200, "{}", models.body);
    let models = models.json()["models"].as_array().unwrap().clone();
    let names: Vec<&str> = models.iter().map(|m| m["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["first", "second"]);
    assert_eq!(models[0]["default"], true);
    assert_eq!(models[1]["default"], false);
    assert_eq!(
        models[0]["labels"],
        json!(["bug", "feature_request", "general_inquiry"])
    );
    assert_eq!(models[0]["precision"], "f32");

    let health = get(server.addr, "/healthz").await;
    assert_eq!(
        (health.status, health.json()),
        (200, json!({ "status": "ok", "admitted": 0, "running": 0 }))
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn each_bad_request_gets_its_status_and_a_json_error_kind() {
    let small = Limits {
        max_batch: 2,
        max_body_bytes: 2048,
        ..limits()
    };
    let server = start(vec![common::tiny_model("tiny")], small, false).await;
    let addr = server.addr;

    let broken = classify_with(addr, &[], b"{\"texts\": [\"a\",").await;
    assert_eq!(
        (broken.status, broken.error_kind().as_str()),
        (400, "badRequest")
    );
    assert!(broken.json()["error"]["message"]
        .as_str()
        .unwrap()
        .contains("not a classify request"));

    let cases = [
        (json!({ "texts": [] }), 400, "badRequest", "empty"),
        (
            json!({ "texts": ["fine", " "] }),
            400,
            "badRequest",
            "text 1",
        ),
        (json!({}), 400, "badRequest", "\"text\""),
        (
            json!({ "text": "a", "texts": ["b"] }),
            400,
            "badRequest",
            "not both",
        ),
        (json!({ "txt": "typo" }), 400, "badRequest", "unknown field"),
        (
            json!({ "texts": ["a", "b", "c"] }),
            413,
            "tooLarge",
            "at most 2",
        ),
        (
            json!({ "model": "nope", "text": "a" }),
            404,
            "unknownModel",
            "this service has tiny",
        ),
    ];
    for (body, status, kind, says) in cases {
        let answer = classify(addr, &body).await;
        assert_eq!(
            (answer.status, answer.error_kind().as_str()),
            (status, kind),
            "{body}"
        );
        let message = answer.json()["error"]["message"]
            .as_str()
            .unwrap()
            .to_string();
        assert!(message.contains(says), "{body}: {message}");
    }

    let long_text = "word ".repeat(1000);
    let too_big = classify(addr, &json!({ "text": long_text })).await;
    assert_eq!(
        (too_big.status, too_big.error_kind().as_str()),
        (413, "tooLarge")
    );

    let nowhere = get(addr, "/v2/classify").await;
    assert_eq!(
        (nowhere.status, nowhere.error_kind().as_str()),
        (404, "notFound")
    );
    let wrong_method = get(addr, "/v1/classify").await;
    assert_eq!(wrong_method.status, 405);
    assert_eq!(wrong_method.error_kind(), "methodNotAllowed");

    // Without a Content-Type header (curl -d sends a form type) the body is still JSON.
    let plain = common::send(addr, "POST", "/v1/classify", &[], br#"{"text":"hello"}"#).await;
    assert_eq!(plain.status, 200, "{}", plain.body);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn with_a_token_every_request_but_health_checks_must_carry_it() {
    let server = start(vec![common::tiny_model("tiny")], limits(), true).await;
    let addr = server.addr;
    let body = json!({ "text": "blank screen on open" }).to_string();

    let missing = classify_with(addr, &[], body.as_bytes()).await;
    assert_eq!(
        (missing.status, missing.error_kind().as_str()),
        (401, "unauthorized")
    );
    assert_eq!(missing.header("www-authenticate"), Some("Bearer"));
    let wrong = classify_with(
        addr,
        &[("Authorization", "Bearer not-the-token-at-all")],
        body.as_bytes(),
    )
    .await;
    assert_eq!(
        (wrong.status, wrong.error_kind().as_str()),
        (401, "unauthorized")
    );
    let basic = classify_with(addr, &[("Authorization", TOKEN)], body.as_bytes()).await;
    assert_eq!(
        basic.status, 401,
        "the token alone is not a bearer credential"
    );

    let bearer = format!("Bearer {TOKEN}");
    let right = classify_with(addr, &[("Authorization", &bearer)], body.as_bytes()).await;
    assert_eq!(right.status, 200, "{}", right.body);
    assert_eq!(get(addr, "/v1/models").await.status, 401);
    assert_eq!(get(addr, "/healthz").await.status, 200);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn refuses_to_start_off_loopback_without_a_token() {
    let models = || Models::new(vec![common::tiny_model("tiny")]).unwrap();
    let exposed = ServeConfig {
        bind: "0.0.0.0:0".parse().unwrap(),
        token: None,
        limits: limits(),
    };
    let refused = Server::bind(&exposed, models())
        .await
        .err()
        .expect("refused");
    assert!(
        matches!(refused, ServeError::Unprotected { .. }),
        "{refused}"
    );
    let message = refused.to_string();
    assert!(
        message.contains("refusing to listen on 0.0.0.0:0 without a token"),
        "{message}"
    );
    assert!(message.contains("--token-file"), "{message}");

    // The same rule with a token lets it start (checked without binding a public address).
    let protected = ServeConfig {
        token: Some(Token::new(TOKEN).unwrap()),
        ..exposed
    };
    assert!(protected.check().is_ok());

    let bad_limits = ServeConfig {
        bind: "127.0.0.1:0".parse().unwrap(),
        token: None,
        limits: Limits {
            max_concurrent: 0,
            ..limits()
        },
    };
    let refused = Server::bind(&bad_limits, models())
        .await
        .err()
        .expect("refused");
    assert!(
        refused.to_string().starts_with("--max-concurrent"),
        "{refused}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn two_models_of_one_name_or_none_are_refused() {
    let twice = Models::new(vec![common::tiny_model("same"), common::tiny_model("same")]);
    assert!(matches!(twice.err(), Some(ServeError::DuplicateName(name)) if name == "same"));
    assert!(matches!(
        Models::new(Vec::<ServedModel>::new()).err(),
        Some(ServeError::NoModels)
    ));
}

#[tokio::test(flavor = "multi_thread")]
async fn when_every_slot_and_queue_place_is_taken_it_answers_503_with_retry_after() {
    let (model, gate) = GatedModel::new();
    let busy = Limits {
        max_concurrent: 1,
        max_queue: 0,
        ..limits()
    };
    let server = start(vec![ServedModel::new("gated", model)], busy, false).await;
    let addr = server.addr;
    let held = tokio::spawn(async move { classify(addr, &json!({ "text": "first" })).await });
    gate.wait_started().await;

    let refused = classify(addr, &json!({ "text": "second" })).await;
    assert_eq!(
        (refused.status, refused.error_kind().as_str()),
        (503, "overloaded")
    );
    assert_eq!(refused.header("retry-after"), Some("1"));
    assert_eq!(
        get(addr, "/healthz").await.status,
        200,
        "health checks are not queued"
    );

    gate.release.send(()).unwrap();
    assert_eq!(held.await.unwrap().status, 200);
    gate.release.send(()).unwrap();
    let after = classify(addr, &json!({ "text": "third" })).await;
    assert_eq!(after.status, 200, "the slot is free again: {}", after.body);
    server.stop().await;
}

/// Poll `/healthz` until `admitted` requests are admitted (at most ~30 s).
async fn wait_admitted(addr: std::net::SocketAddr, admitted: u64) {
    for _ in 0..3000 {
        if get(addr, "/healthz").await.json()["admitted"] == admitted {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    panic!("{admitted} requests were never admitted together");
}

#[tokio::test(flavor = "multi_thread")]
async fn requests_waiting_together_are_classified_in_one_batch_and_answered_each() {
    let (model, gate) = GatedModel::new();
    let one_slot = Limits {
        max_concurrent: 1,
        max_queue: 4,
        max_batch: 3,
        ..limits()
    };
    let server = start(vec![ServedModel::new("gated", model)], one_slot, false).await;
    let addr = server.addr;
    let requests: [&[&str]; 4] = [
        &["sync crashes"],
        &["please add dark mode"],
        &["how do i reset my password", "blank screen on open"],
        &["would like an export option"],
    ];
    let mut answers = Vec::new();
    for (i, texts) in requests.iter().enumerate() {
        let body = json!({ "texts": texts });
        answers.push(tokio::spawn(async move { classify(addr, &body).await }));
        if i == 0 {
            gate.wait_started().await;
        }
        // One at a time, so that they queue in this order.
        wait_admitted(addr, i as u64 + 1).await;
    }
    let busy = get(addr, "/healthz").await.json();
    assert_eq!(busy["running"], 1, "{busy}");

    for _ in 0..3 {
        gate.release.send(()).unwrap();
    }
    let direct =
        dialect::Predictor::load(&common::tiny_model_dir(), dialect::DeviceChoice::Cpu).unwrap();
    for (texts, answer) in requests.iter().zip(answers) {
        let answer = answer.await.unwrap();
        assert_eq!(answer.status, 200, "{}", answer.body);
        assert_eq!(
            answer.labels(),
            common::predicted_labels(&direct, texts),
            "each request gets its own predictions"
        );
    }
    // The first alone; then the next two requests (3 texts, the batch limit); then the
    // last, which would have made 4.
    assert_eq!(*gate.batches.lock().unwrap(), [1, 3, 1]);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn shutdown_answers_the_requests_in_flight_then_stops_listening() {
    let (model, gate) = GatedModel::new();
    let server = start(vec![ServedModel::new("gated", model)], limits(), false).await;
    let addr = server.addr;
    let in_flight = tokio::spawn(async move {
        classify(
            addr,
            &json!({ "texts": ["please add dark mode", "sync crashes"] }),
        )
        .await
    });
    gate.wait_started().await;

    let stopping = server.begin_stop();
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    assert!(
        !stopping.is_finished(),
        "it waits for the request in flight"
    );
    gate.release.send(()).unwrap();

    let answered = in_flight.await.unwrap();
    assert_eq!(answered.status, 200, "{}", answered.body);
    assert_eq!(answered.json()["predictions"].as_array().unwrap().len(), 2);
    stopping.await.unwrap().unwrap();
    assert!(
        tokio::net::TcpStream::connect(addr).await.is_err(),
        "no longer listening"
    );
}

/// How long a test waits for something that must happen before calling it a failure.
const PATIENCE: std::time::Duration = std::time::Duration::from_secs(10);

/// Whether the server closed `stream` (end of stream or reset) before `PATIENCE` ran
/// out, having sent nothing.
async fn closed_by_server(stream: &mut tokio::net::TcpStream) -> bool {
    use tokio::io::AsyncReadExt;
    let mut byte = [0u8; 1];
    match tokio::time::timeout(PATIENCE, stream.read(&mut byte)).await {
        Ok(Ok(n)) => n == 0,
        Ok(Err(_)) => true,
        Err(_) => false,
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn clients_that_send_nothing_or_too_slowly_are_dropped_after_the_read_timeout() {
    use tokio::io::AsyncWriteExt;
    use tokio::net::TcpStream;
    let quick = Limits {
        read_timeout: std::time::Duration::from_millis(300),
        ..limits()
    };
    let server = start(vec![common::tiny_model("tiny")], quick, false).await;
    let addr = server.addr;

    let mut silent = TcpStream::connect(addr).await.unwrap();
    let mut half_head = TcpStream::connect(addr).await.unwrap();
    half_head
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: test\r\n")
        .await
        .unwrap();
    assert!(closed_by_server(&mut silent).await, "a silent client");
    assert!(
        closed_by_server(&mut half_head).await,
        "headers never ended"
    );

    let mut slow_body = TcpStream::connect(addr).await.unwrap();
    slow_body
        .write_all(
            b"POST /v1/classify HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n\
              Content-Length: 40\r\n\r\n{\"text\": ",
        )
        .await
        .unwrap();
    let answer = tokio::time::timeout(PATIENCE, common::read_response(&mut slow_body))
        .await
        .expect("a body that stops arriving is answered");
    assert_eq!(
        (answer.status, answer.error_kind().as_str()),
        (408, "timeout")
    );
    assert!(answer.json()["error"]["message"]
        .as_str()
        .unwrap()
        .contains("did not arrive within 0.3 s"));

    let prompt = classify(addr, &json!({ "text": "sync crashes" })).await;
    assert_eq!(prompt.status, 200, "{}", prompt.body);
    server.stop().await;
}

/// Open a connection and have one request answered on it, so the server has surely
/// accepted it; the connection stays open.
async fn accepted_connection(addr: std::net::SocketAddr) -> tokio::net::TcpStream {
    use tokio::io::AsyncWriteExt;
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    stream
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: test\r\n\r\n")
        .await
        .unwrap();
    let answer = common::read_response(&mut stream).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    stream
}

#[tokio::test(flavor = "multi_thread")]
async fn connections_past_the_cap_are_served_only_once_one_closes() {
    let one = Limits {
        max_connections: 1,
        ..limits()
    };
    let server = start(vec![common::tiny_model("tiny")], one, false).await;
    let addr = server.addr;
    let open = accepted_connection(addr).await;

    let mut waiting = tokio::spawn(async move { get(addr, "/healthz").await });
    let early = tokio::time::timeout(std::time::Duration::from_millis(300), &mut waiting).await;
    assert!(
        early.is_err(),
        "a second connection is not served while the first is open"
    );

    drop(open);
    let answer = tokio::time::timeout(PATIENCE, waiting)
        .await
        .expect("served once the first connection closed")
        .unwrap();
    assert_eq!(answer.status, 200, "{}", answer.body);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn an_idle_connection_gives_its_place_back_after_the_read_timeout() {
    let one_quick = Limits {
        max_connections: 1,
        read_timeout: std::time::Duration::from_millis(300),
        ..limits()
    };
    let server = start(vec![common::tiny_model("tiny")], one_quick, false).await;
    let addr = server.addr;
    let mut idle = accepted_connection(addr).await;

    let answer = tokio::time::timeout(PATIENCE, get(addr, "/healthz"))
        .await
        .expect("the idle connection was dropped and its place given to the next");
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert!(closed_by_server(&mut idle).await);
    server.stop().await;
}
