//! The HTTP API: `POST /v1/classify`, `GET /v1/models`, `GET /healthz`, and a JSON
//! error for anything else.

use crate::admission::{Admission, Load};
use crate::auth::require_bearer;
use crate::config::{Limits, ServeConfig};
use crate::error::ApiError;
use crate::models::{ModelInfo, Models};
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, FromRequest, Request, State};
use axum::routing::{get, post};
use axum::{middleware, Json, Router};
use dialect::Prediction;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// What every handler shares.
#[derive(Clone)]
struct AppState {
    models: Models,
    admission: Admission,
    limits: Limits,
}

/// A classification request: one `text` or several `texts`, for `model` (by name)
/// or the default model.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ClassifyRequest {
    model: Option<String>,
    text: Option<String>,
    texts: Option<Vec<String>>,
}

/// The answer to a classification: the model that answered and one prediction per
/// text, in order.
#[derive(Debug, Serialize)]
struct ClassifyResponse {
    model: String,
    predictions: Vec<Prediction>,
}

#[derive(Debug, Serialize)]
struct ModelsResponse {
    models: Vec<ModelInfo>,
}

/// `GET /healthz`: up, and how busy.
#[derive(Debug, Serialize)]
struct Health {
    status: &'static str,
    #[serde(flatten)]
    load: Load,
}

/// The service's routes over `models`, bounded and (with a token) authenticated as
/// `config` says.
pub fn router(config: &ServeConfig, models: Models) -> Router {
    let state = AppState {
        models,
        admission: Admission::new(&config.limits),
        limits: config.limits,
    };
    let mut api = Router::new()
        .route("/v1/classify", post(classify))
        .route("/v1/models", get(list_models));
    if let Some(token) = &config.token {
        api = api.route_layer(middleware::from_fn_with_state(
            Arc::new(token.clone()),
            require_bearer,
        ));
    }
    Router::new()
        .route("/healthz", get(health))
        .merge(api)
        .fallback(unknown_route)
        .method_not_allowed_fallback(wrong_method)
        .layer(DefaultBodyLimit::max(config.limits.max_body_bytes))
        .with_state(state)
}

async fn health(State(state): State<AppState>) -> Json<Health> {
    Json(Health {
        status: "ok",
        load: state.admission.load(),
    })
}

async fn list_models(State(state): State<AppState>) -> Json<ModelsResponse> {
    Json(ModelsResponse {
        models: state.models.infos(),
    })
}

async fn unknown_route() -> ApiError {
    ApiError::not_found("no such endpoint: use POST /v1/classify, GET /v1/models or GET /healthz")
}

async fn wrong_method() -> ApiError {
    ApiError::method_not_allowed("wrong method: POST /v1/classify, GET /v1/models, GET /healthz")
}

/// Classify the request's texts with its model, on a blocking thread once admitted.
async fn classify(
    State(state): State<AppState>,
    request: Request,
) -> Result<Json<ClassifyResponse>, ApiError> {
    let body = read_body(request, &state.limits).await?;
    let request: ClassifyRequest = serde_json::from_slice(&body)
        .map_err(|e| ApiError::bad_request(format!("the body is not a classify request: {e}")))?;
    let model = state.models.find(request.model.as_deref())?;
    let texts = request_texts(request.text, request.texts, state.limits.max_batch)?;
    let admitted = state.admission.admit()?;
    let predictions = model
        .batcher()
        .classify(admitted, texts, state.limits.max_batch)
        .await?;
    Ok(Json(ClassifyResponse {
        model: model.name().to_string(),
        predictions,
    }))
}

/// The request's body, whole within the size limit and the read timeout (408 when it
/// arrives too slowly, so a slow client cannot hold its connection).
async fn read_body(request: Request, limits: &Limits) -> Result<Bytes, ApiError> {
    match tokio::time::timeout(limits.read_timeout, Bytes::from_request(request, &())).await {
        Ok(body) => body.map_err(|e| body_error(e, limits.max_body_bytes)),
        Err(_) => Err(ApiError::request_timeout(format!(
            "the body did not arrive within {} s: send the whole request at once",
            limits.read_timeout.as_secs_f64()
        ))),
    }
}

/// A body that could not be read: over the size limit (413), or broken (400).
fn body_error(rejection: BytesRejection, max_body_bytes: usize) -> ApiError {
    if rejection.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
        ApiError::too_large(format!(
            "the body is over {max_body_bytes} bytes: send fewer or shorter texts per request"
        ))
    } else {
        ApiError::bad_request(format!(
            "the body could not be read: {}",
            rejection.body_text()
        ))
    }
}

/// The texts to classify: exactly one of `text` and `texts`, none of them empty, at most
/// `max_batch`.
fn request_texts(
    text: Option<String>,
    texts: Option<Vec<String>>,
    max_batch: usize,
) -> Result<Vec<String>, ApiError> {
    let texts = match (text, texts) {
        (Some(text), None) => vec![text],
        (None, Some(texts)) => texts,
        (Some(_), Some(_)) => {
            return Err(ApiError::bad_request(
                "give either \"text\" (one) or \"texts\" (a list), not both",
            ))
        }
        (None, None) => {
            return Err(ApiError::bad_request(
                "give \"text\": \"...\" or \"texts\": [\"...\", ...] to classify",
            ))
        }
    };
    if texts.is_empty() {
        return Err(ApiError::bad_request(
            "\"texts\" is empty: give at least one text",
        ));
    }
    if texts.len() > max_batch {
        return Err(ApiError::too_large(format!(
            "{} texts in one request; this service takes at most {max_batch}: split them over several requests",
            texts.len()
        )));
    }
    if let Some(i) = texts.iter().position(|t| t.trim().is_empty()) {
        return Err(ApiError::bad_request(format!(
            "text {i} (counting from 0) is empty or blank: give each text some words"
        )));
    }
    Ok(texts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_text_or_a_list_of_non_blank_texts_within_the_batch_limit() {
        let one = request_texts(Some("hello".into()), None, 2).unwrap();
        assert_eq!(one, ["hello"]);
        let two = request_texts(None, Some(vec!["a".into(), "b".into()]), 2).unwrap();
        assert_eq!(two, ["a", "b"]);

        let both = request_texts(Some("a".into()), Some(vec!["b".into()]), 2).unwrap_err();
        assert_eq!(both.kind(), "badRequest");
        assert_eq!(
            request_texts(None, None, 2).unwrap_err().kind(),
            "badRequest"
        );
        assert_eq!(
            request_texts(None, Some(vec![]), 2).unwrap_err().kind(),
            "badRequest"
        );
        let blank = request_texts(None, Some(vec!["a".into(), "  ".into()]), 2).unwrap_err();
        assert_eq!(blank.kind(), "badRequest");
        let three = vec!["a".to_string(); 3];
        let over = request_texts(None, Some(three), 2).unwrap_err();
        assert_eq!(over.status(), axum::http::StatusCode::PAYLOAD_TOO_LARGE);
    }
}
