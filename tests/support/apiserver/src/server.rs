//! The one axum handler: log and fault-inject every request, check the token,
//! then route to discovery or to objects.

use crate::discovery;
use crate::objects::{self, Answer, Call};
use crate::route::{self, Route};
use crate::state::{Admission, RequestRecord, Shared};
use crate::status::Failure;
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use std::collections::HashMap;
use std::sync::Arc;

pub async fn serve(
    State(shared): State<Arc<Shared>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let record = RequestRecord {
        method: method.to_string(),
        path: uri.path().to_owned(),
        query: uri.query().map(str::to_owned),
        content_type: content_type.clone(),
    };
    shared.enter();
    let response = respond(
        &shared,
        record,
        &method,
        &uri,
        &headers,
        content_type,
        &body,
    )
    .await;
    shared.leave();
    response
}

async fn respond(
    shared: &Shared,
    record: RequestRecord,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    content_type: Option<String>,
    body: &Bytes,
) -> Response {
    match shared.admit(record) {
        Admission::Fail(failure) => return failure.into_response(),
        Admission::Raw(raw) => {
            let mut response = (
                StatusCode::from_u16(raw.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
                raw.body,
            )
                .into_response();
            for (name, value) in raw.headers {
                if let (Ok(name), Ok(value)) = (
                    header::HeaderName::from_bytes(name.as_bytes()),
                    header::HeaderValue::from_str(&value),
                ) {
                    response.headers_mut().insert(name, value);
                }
            }
            return response;
        }
        Admission::Serve(delay) if !delay.is_zero() => tokio::time::sleep(delay).await,
        Admission::Serve(_) => {}
    }
    if let Err(failure) = authorize(shared, headers) {
        return failure.into_response();
    }
    match answer(shared, method, uri, content_type.as_deref(), body) {
        Ok((code, value)) => (code, Json(value)).into_response(),
        Err(failure) => failure.into_response(),
    }
}

/// Anonymous requests pass (like a cluster with anonymous auth); a wrong token is a 401.
fn authorize(shared: &Shared, headers: &HeaderMap) -> Result<(), Failure> {
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Ok(());
    };
    let expected = format!("Bearer {}", shared.token);
    if value.to_str().ok() == Some(expected.as_str()) {
        Ok(())
    } else {
        Err(Failure::new(
            401,
            "the bearer token is not the test-apiserver token",
        ))
    }
}

fn answer(
    shared: &Shared,
    method: &Method,
    uri: &Uri,
    content_type: Option<&str>,
    body: &[u8],
) -> Answer {
    let unserved = || {
        Failure::not_found(format!(
            "the server could not find the requested resource ({method} {})",
            uri.path()
        ))
    };
    let route = route::parse(uri.path()).ok_or_else(unserved)?;
    let resources = shared.resources();
    if let Route::Objects(path) = route {
        let resource = objects::resolve(&resources, &path)?;
        let Query(query) = Query::<HashMap<String, String>>::try_from_uri(uri)
            .map_err(|e| Failure::bad_request(format!("query string: {e}")))?;
        let call = Call {
            shared,
            resource,
            namespace: path.namespace,
            query,
            content_type,
            body,
        };
        return objects::handle(call, method, path.name);
    }
    if method != Method::GET {
        return Err(Failure::new(
            405,
            format!("discovery documents only answer GET, not {method}"),
        ));
    }
    let document = match route {
        Route::CoreVersions => discovery::core_versions(&resources, &shared.address),
        Route::Groups => discovery::groups(&resources),
        Route::Group(group) => discovery::group(&resources, group)?,
        Route::Resources { group, version } => {
            discovery::resource_list(&resources, group, version)?
        }
        Route::Version => discovery::version(),
        Route::Objects(_) => return Err(unserved()),
    };
    Ok((StatusCode::OK, document))
}
