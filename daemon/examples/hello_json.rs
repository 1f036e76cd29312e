//! The HTTP ceiling for `bench/memory.py`: an axum server that parses the same JSON body
//! `/predict` takes and answers a fixed JSON prediction, with nothing else (no model, no
//! metrics, no log). `/predict`'s requests per second over this server's, on the same
//! wrk load, is how much of the ceiling the daemon's own work leaves.
//!
//! `cargo run --release --example hello_json -- 127.0.0.1:8099`

use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};

#[derive(Deserialize)]
struct PredictBody {
    text: String,
}

#[derive(Serialize)]
struct Prediction {
    label: &'static str,
    confidence: f64,
    length: usize,
}

async fn predict(Json(body): Json<PredictBody>) -> Json<Prediction> {
    Json(Prediction {
        label: "positive",
        confidence: 0.5,
        length: body.text.len(),
    })
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let address = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:8099".into());
    let app = Router::new()
        .route("/predict", post(predict))
        .route("/health", get(|| async { "ok" }));
    let listener = tokio::net::TcpListener::bind(&address).await?;
    axum::serve(listener, app).await
}
