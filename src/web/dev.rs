//! Development pages (only routed with `dev.pages = true`): `/dev/sms` shows the SMS outbox,
//! so a newcomer can read one-time codes in the browser.

use super::error::{PageError, render};
use super::i18n::Tr;
use super::state::AppState;
use crate::core::notify::{OutboxMessage, read_outbox};
use askama::Template;
use axum::extract::State;
use axum::response::{IntoResponse, Response};

#[derive(Template)]
#[template(path = "dev_sms.html")]
struct DevSms<'a> {
    tr: &'a Tr,
    messages: Vec<OutboxMessage>,
}

/// `GET /dev/sms`: the outbox, most recent first.
pub async fn sms(State(state): State<AppState>, tr: Tr) -> Response {
    match read_outbox(&state.config.sms.outbox_path).await {
        Ok(mut messages) => {
            messages.reverse();
            render(tr, &DevSms { tr: &tr, messages })
        }
        Err(e) => PageError::Unavailable(format!("sms outbox: {e}"))
            .page(tr)
            .into_response(),
    }
}
