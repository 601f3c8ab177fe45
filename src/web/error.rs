//! Errors shown to people: a readable page in their language with the right status, never
//! internals. (Relying parties get their protocol's errors from the protocol layers.)

use super::i18n::Tr;
use crate::core::CoreError;
use askama::Template;
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};

/// What went wrong, in terms a citizen can act on.
#[derive(Debug)]
pub enum PageError {
    /// No such page.
    NotFound,
    /// The input cannot be used; the message is already in the citizen's language.
    BadRequest(String),
    /// The form did not carry a valid anti-forgery token.
    Csrf,
    /// A dependency failed; the detail goes to the log only.
    Unavailable(String),
}

impl PageError {
    fn status(&self) -> StatusCode {
        match self {
            Self::NotFound => StatusCode::NOT_FOUND,
            Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::Csrf => StatusCode::FORBIDDEN,
            Self::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    fn message(&self, tr: &Tr) -> String {
        match self {
            Self::NotFound => tr.t("error-not-found"),
            Self::BadRequest(m) => m.clone(),
            Self::Csrf => tr.t("error-csrf"),
            Self::Unavailable(_) => tr.t("error-unavailable"),
        }
    }

    /// The page in the citizen's language.
    pub fn page(self, tr: Tr) -> ErrorPage {
        ErrorPage { tr, error: self }
    }
}

impl From<CoreError> for PageError {
    fn from(e: CoreError) -> Self {
        match e {
            CoreError::NotFound(_) => Self::NotFound,
            CoreError::Unavailable(detail) => Self::Unavailable(detail),
            other => Self::BadRequest(other.to_string()),
        }
    }
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorTemplate<'a> {
    tr: &'a Tr,
    message: &'a str,
}

/// A [`PageError`] rendered for one citizen.
#[derive(Debug)]
pub struct ErrorPage {
    tr: Tr,
    error: PageError,
}

impl IntoResponse for ErrorPage {
    fn into_response(self) -> Response {
        if let PageError::Unavailable(detail) = &self.error {
            tracing::error!(%detail, "page refused: dependency unavailable");
        }
        let message = self.error.message(&self.tr);
        let body = ErrorTemplate {
            tr: &self.tr,
            message: &message,
        }
        .render()
        .unwrap_or_else(|_| message.clone());
        (
            self.error.status(),
            [(header::CACHE_CONTROL, "no-store")],
            Html(body),
        )
            .into_response()
    }
}

/// Renders a template as an HTML page that is never cached (pages carry forms and personal
/// data).
pub fn render<T: Template>(tr: Tr, template: &T) -> Response {
    match template.render() {
        Ok(body) => ([(header::CACHE_CONTROL, "no-store")], Html(body)).into_response(),
        Err(e) => PageError::Unavailable(format!("template: {e}"))
            .page(tr)
            .into_response(),
    }
}
