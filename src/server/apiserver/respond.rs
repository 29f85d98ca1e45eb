//! Building HTTP responses: objects in the negotiated encoding, Status errors, warnings.

use axum::body::Body;
use axum::http::{header, HeaderValue, Response, StatusCode};
use serde_json::Value;

use super::negotiate::Output;
use crate::server::api_error::ApiError;

pub type HttpResponse = Response<Body>;

/// `value` encoded as `output` asks (JSON unless YAML is wanted).
pub fn object(status: StatusCode, value: &Value, output: Output, warnings: &[String]) -> HttpResponse {
    let (content_type, body) = match output {
        Output::Yaml => {
            ("application/yaml", serde_yaml::to_string(value).map(String::into_bytes).map_err(|e| e.to_string()))
        }
        _ => ("application/json", serde_json::to_vec(value).map_err(|e| e.to_string())),
    };
    match body {
        Ok(bytes) => {
            let mut response = Response::builder()
                .status(status)
                .header(header::CONTENT_TYPE, content_type)
                .body(Body::from(bytes))
                .expect("static headers are valid");
            add_warnings(&mut response, warnings);
            response
        }
        Err(err) => error(&ApiError::internal(err)),
    }
}

/// Raw JSON bytes with a content type (discovery, OpenAPI).
pub fn raw(content_type: &str, bytes: impl Into<Body>) -> HttpResponse {
    Response::builder()
        .status(StatusCode::OK)
        .header(header::CONTENT_TYPE, content_type)
        .body(bytes.into())
        .expect("static headers are valid")
}

/// The Status object for `err`, with its code.
pub fn error(err: &ApiError) -> HttpResponse {
    let status = StatusCode::from_u16(err.code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut response = Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(serde_json::to_vec(&err.to_status()).expect("a Status always serialises")))
        .expect("static headers are valid");
    if let Some(secs) = err.retry_after {
        response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(secs));
    }
    if err.code == 401 {
        response
            .headers_mut()
            .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Basic realm=\"kubernetes-master\""));
    }
    response
}

fn add_warnings(response: &mut HttpResponse, warnings: &[String]) {
    for warning in warnings {
        let text = format!("299 - \"{}\"", warning.replace('\\', "\\\\").replace('"', "\\\""));
        if let Ok(value) = HeaderValue::from_str(&text) {
            response.headers_mut().append(header::WARNING, value);
        }
    }
}
