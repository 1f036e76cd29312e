//! `GET /events`: the event bus as a Server-Sent Events stream, for the console.

use crate::events::Event;
use crate::state::SharedState;
use axum::extract::State;
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use futures::stream::{Stream, StreamExt};
use std::convert::Infallible;
use std::time::Duration;
use tokio_stream::wrappers::errors::BroadcastStreamRecvError;
use tokio_stream::wrappers::BroadcastStream;

/// A live stream of what happens: `hello` first, then `prediction`, `feedback`,
/// `queue_changed`, `model_changed`, `alert`, `retrain_progress` and
/// `retrain_finished` events, each with a JSON `data` line (an `Event`, its `type` the
/// SSE event name). A subscriber too slow to keep up gets a `lagged` event with the
/// number of events it missed. The stream ends when the daemon shuts down.
#[utoipa::path(
    get, path = "/events", tag = "operator",
    responses(
        (status = 200, description = "text/event-stream of Event objects", body = Event, content_type = "text/event-stream"),
        (status = 403, description = "Needs the socket or an admin key", body = super::error::ErrorBody),
    )
)]
pub async fn events(
    State(state): State<SharedState>,
) -> Sse<impl Stream<Item = Result<SseEvent, Infallible>>> {
    let mut shutdown = state.shutdown.subscribe();
    let stopped = async move {
        let _ = shutdown.wait_for(|stopping| *stopping).await;
    };
    let hello = futures::stream::once(async move { Ok(to_sse(&Event::Hello {})) });
    let stream = BroadcastStream::new(state.events.subscribe()).map(|item| {
        Ok(match item {
            Ok(event) => to_sse(&event),
            Err(BroadcastStreamRecvError::Lagged(missed)) => to_sse(&Event::Lagged { missed }),
        })
    });
    Sse::new(hello.chain(stream).take_until(Box::pin(stopped)))
        .keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
}

fn to_sse(event: &Event) -> SseEvent {
    SseEvent::default()
        .event(event.name())
        .data(serde_json::to_string(event).unwrap_or_else(|_| "{}".into()))
}
