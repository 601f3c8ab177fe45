//! The HTTP SMS provider against a real local HTTP server (wiremock).

use super::SendError;
use super::http::{HttpSms, HttpSmsConfig};
use super::sms::SmsGateway;
use serde_json::json;
use std::collections::BTreeMap;
use std::time::{Duration, Instant};
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

fn config(server: &MockServer) -> HttpSmsConfig {
    HttpSmsConfig {
        url: format!("{}/send", server.uri()),
        headers: BTreeMap::from([
            (
                "Authorization".to_string(),
                "Bearer ${SMS_TEST_KEY}".to_string(),
            ),
            ("X-Static".to_string(), "fixed".to_string()),
        ]),
        body: json!({
            "to": "{{to}}",
            "message": { "text": "{{text}}", "from": "{{sender}}" },
            "flash": false,
        }),
        timeout_ms: 1000,
        retries: 2,
        backoff_ms: 10,
        success_status: vec![],
    }
}

fn gateway(config: &HttpSmsConfig) -> HttpSms {
    let lookup = |name: &str| (name == "SMS_TEST_KEY").then(|| "k3y".to_string());
    HttpSms::with_env(config, "pasarela", &lookup).unwrap()
}

#[tokio::test]
async fn body_template_and_env_headers() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/send"))
        .and(header("authorization", "Bearer k3y"))
        .and(header("x-static", "fixed"))
        .and(header("content-type", "application/json"))
        .respond_with(ResponseTemplate::new(201))
        .expect(1)
        .mount(&server)
        .await;
    let text = "Código: 123456 — válido \"10 min\"\nno lo compartas";
    gateway(&config(&server))
        .send("+34600123456", text)
        .await
        .unwrap();
    let requests = server.received_requests().await.unwrap();
    let body: serde_json::Value = serde_json::from_slice(&requests[0].body).unwrap();
    assert_eq!(
        body,
        json!({
            "to": "+34600123456",
            "message": { "text": text, "from": "pasarela" },
            "flash": false,
        })
    );
}

#[tokio::test]
async fn retries_after_a_server_error() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(500))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&server)
        .await;
    gateway(&config(&server))
        .send("+34600123456", "code")
        .await
        .unwrap();
    assert_eq!(server.received_requests().await.unwrap().len(), 2);
}

#[tokio::test]
async fn too_many_requests_is_retried_then_unavailable() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(429))
        .mount(&server)
        .await;
    let result = gateway(&config(&server)).send("+34600123456", "code").await;
    assert_eq!(
        result,
        Err(SendError::Unavailable("status 429 after 3 attempts".into()))
    );
    assert_eq!(server.received_requests().await.unwrap().len(), 3);
}

#[tokio::test]
async fn client_error_is_rejected_without_retry() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(400).set_body_string("bad number +34600123456"))
        .mount(&server)
        .await;
    let result = gateway(&config(&server)).send("+34600123456", "code").await;
    let err = result.unwrap_err();
    assert_eq!(err, SendError::Rejected("status 400".into()));
    assert!(!err.to_string().contains("600123"));
    assert_eq!(server.received_requests().await.unwrap().len(), 1);
}

#[tokio::test]
async fn configured_success_status_is_honoured() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&server)
        .await;
    let mut c = config(&server);
    c.success_status = vec![202];
    let result = gateway(&c).send("+34600123456", "code").await;
    assert_eq!(result, Err(SendError::Rejected("status 200".into())));
}

#[tokio::test]
async fn timeout_is_unavailable_within_the_bound() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_secs(5)))
        .mount(&server)
        .await;
    let mut c = config(&server);
    c.timeout_ms = 200;
    c.retries = 1;
    let started = Instant::now();
    let result = gateway(&c).send("+34600123456", "code").await;
    let elapsed = started.elapsed();
    assert_eq!(
        result,
        Err(SendError::Unavailable("timeout after 2 attempts".into()))
    );
    // 2 attempts × 200 ms + 10 ms backoff, with slack for a busy machine.
    assert!(elapsed >= Duration::from_millis(400), "{elapsed:?}");
    assert!(elapsed < Duration::from_millis(1500), "{elapsed:?}");
}

#[tokio::test]
async fn unreachable_server_is_unavailable() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    let mut c = HttpSmsConfig {
        url: format!("http://127.0.0.1:{port}/send"),
        ..config(&MockServer::start().await)
    };
    c.retries = 0;
    let result = gateway(&c).send("+34600123456", "code").await;
    assert_eq!(
        result,
        Err(SendError::Unavailable(
            "connect error after 1 attempts".into()
        ))
    );
}
