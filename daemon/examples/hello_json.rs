//! The HTTP ceilings for `bench/memory.py`: an axum server that parses the same JSON
//! body `/predict` takes and answers a JSON prediction, with nothing else (no metrics,
//! no log, no store, no auth, no middleware). `/predict`'s requests per second over
//! this server's, on the same wrk load, is how much of the ceiling the daemon's own
//! work leaves.
//!
//! - without a model it answers a fixed prediction: the ceiling of axum and the TCP
//!   path alone;
//! - with `--model PATH` (a `model.bin`) it runs the model on each text and answers
//!   its label and probabilities: the ceiling of any `/predict` that runs this model.
//!
//! `cargo run --release --example hello_json -- 127.0.0.1:8099 [--model model.bin]`

use axum::extract::State;
use axum::routing::{get, post};
use axum::{Json, Router};
use sentiment_core::SentimentModel;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

#[derive(Deserialize)]
struct PredictBody {
    text: String,
}

#[derive(Serialize)]
struct Prediction {
    label: &'static str,
    confidence: f64,
    p_positive: f64,
    known_ngrams: usize,
    length: usize,
}

async fn predict(
    State(model): State<Option<Arc<SentimentModel>>>,
    Json(body): Json<PredictBody>,
) -> Json<Prediction> {
    let Some(model) = model else {
        return Json(Prediction {
            label: "positive",
            confidence: 0.5,
            p_positive: 0.5,
            known_ngrams: 0,
            length: body.text.len(),
        });
    };
    let (prediction, known_ngrams) = model.predict_known(&body.text);
    Json(Prediction {
        label: prediction.label.as_str(),
        confidence: prediction.confidence,
        p_positive: prediction.p_positive,
        known_ngrams,
        length: body.text.len(),
    })
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let address = args
        .first()
        .filter(|a| !a.starts_with("--"))
        .cloned()
        .unwrap_or_else(|| "127.0.0.1:8099".into());
    let model = match args.iter().position(|a| a == "--model") {
        Some(i) => {
            let path = args.get(i + 1).ok_or("--model needs a path")?;
            Some(Arc::new(sentiment_core::load_model(path.as_ref())?))
        }
        None => None,
    };
    let app = Router::new()
        .route("/predict", post(predict))
        .route("/health", get(|| async { "ok" }))
        .with_state(model);
    let listener = tokio::net::TcpListener::bind(&address).await?;
    axum::serve(listener, app).await?;
    Ok(())
}
