//! `sentimentd replay`: drives a running daemon through its API with a stream of
//! labelled texts, as users would: predict each, correct (a share of) the wrong ones,
//! optionally confirm the right ones, retrain every N feedback, and measure every
//! served version on a held-out part of the stream. It is the proof that the loop
//! improves the model where it is used, and a tool to try it on your own data.

use crate::api::types::ToWire;
use crate::cli::ReplayArgs;
use crate::datasets;
use anyhow::{bail, Context, Result};
use comfy_table::{presets::UTF8_FULL_CONDENSED, Table};
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use sentiment_data::{stratified_split, Example, Label};
use sentiment_protocol::{
    ErrorBody, ExplainResponse, FeedbackRequest, FeedbackResponse, ModelVersionView,
    PredictRequest, PredictResponse, QueueDecision, QueueItemView, QueueResponse, RetrainReport,
};
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::json;
use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

/// A client for the daemon: over its Unix socket (operator routes need no key there)
/// or over TCP with an admin key.
struct Daemon {
    client: reqwest::blocking::Client,
    base: String,
    key: Option<String>,
}

impl Daemon {
    fn connect(args: &ReplayArgs) -> Result<Daemon> {
        let builder = reqwest::blocking::Client::builder().timeout(Duration::from_secs(600));
        let (client, base) = match &args.url {
            Some(url) => (builder.build()?, url.trim_end_matches('/').to_string()),
            None => {
                let socket =
                    crate::config::socket_path(&crate::config::load(&args.common)?.data_dir);
                if !socket.exists() {
                    bail!("no daemon socket at {}: is `sentimentd serve` running on that data directory? (or pass --url and --key)", socket.display());
                }
                (
                    builder.unix_socket(socket).build()?,
                    "http://localhost".to_string(),
                )
            }
        };
        Ok(Daemon {
            client,
            base,
            key: args.key.clone(),
        })
    }

    /// One call, its answer read as the protocol type `T`; an error answer becomes an
    /// error with the daemon's message.
    fn call<T: DeserializeOwned>(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<&impl Serialize>,
    ) -> Result<T> {
        let mut request = self.client.request(method, format!("{}{path}", self.base));
        if let Some(key) = &self.key {
            request = request.bearer_auth(key);
        }
        if let Some(body) = body {
            request = request.json(body);
        }
        let response = request
            .send()
            .with_context(|| format!("cannot reach the daemon at {}", self.base))?;
        let status = response.status();
        let bytes = response
            .bytes()
            .with_context(|| format!("{path}: the answer was cut off"))?;
        if !status.is_success() {
            let message = serde_json::from_slice::<ErrorBody>(&bytes)
                .map_or_else(|_| "no message".to_string(), |body| body.error.message);
            bail!("{path}: {status}: {message}");
        }
        serde_json::from_slice(&bytes)
            .with_context(|| format!("{path}: an answer this replay cannot read"))
    }

    fn post<T: DeserializeOwned>(&self, path: &str, body: &impl Serialize) -> Result<T> {
        self.call(reqwest::Method::POST, path, Some(body))
    }

    fn get<T: DeserializeOwned>(&self, path: &str) -> Result<T> {
        self.call(reqwest::Method::GET, path, None::<&()>)
    }

    /// Accuracy of the served model on labelled examples, and its version. Through
    /// the operators' unrecorded `/admin/explain`, so that measuring neither counts as
    /// traffic nor feeds held-out texts into the audit sample the gate uses.
    fn accuracy(&self, examples: &[Example]) -> Result<(String, f64)> {
        let mut correct = 0usize;
        let mut version = String::new();
        for e in examples {
            let out: ExplainResponse = self.post(
                "/admin/explain",
                &PredictRequest {
                    text: e.text.clone(),
                },
            )?;
            correct += usize::from(out.label == e.label.to_wire());
            version = out.model_version;
        }
        Ok((version, correct as f64 / examples.len().max(1) as f64))
    }

    /// Labels every open audit item with the stream's label for its text, as an
    /// operator would; returns how many it labelled.
    fn label_audit(&self, truth: &HashMap<&str, Label>) -> Result<usize> {
        let mut labelled = 0;
        loop {
            let queue: QueueResponse = self.get("/admin/queue?kind=audit&state=open&limit=1000")?;
            let mut progressed = false;
            for item in queue.items {
                let decision = match truth.get(item.text.as_str()) {
                    Some(label) => QueueDecision::Label {
                        label: label.to_wire(),
                    },
                    None => QueueDecision::Reject {},
                };
                let _: QueueItemView =
                    self.post(&format!("/admin/queue/{}", item.id), &decision)?;
                labelled += usize::from(truth.contains_key(item.text.as_str()));
                progressed = true;
            }
            if !progressed {
                return Ok(labelled);
            }
        }
    }
}

#[derive(Default, serde::Serialize)]
struct Tally {
    predicted: usize,
    wrong: usize,
    corrections: usize,
    confirmations: usize,
    audit_labelled: usize,
    retrains: Vec<RetrainReport>,
}

pub fn run(args: ReplayArgs) -> Result<()> {
    let examples = datasets::read(&args.stream, false)?;
    let (mut stream, held_out) = stratified_split(&examples, args.holdout, args.seed)
        .context("cannot split the stream into replayed and held-out parts")?;
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(args.seed);
    stream.shuffle(&mut rng);
    let daemon = Daemon::connect(&args)?;
    eprintln!(
        "replaying {} texts ({} held out) against {}",
        stream.len(),
        held_out.len(),
        daemon.base
    );
    let started = Instant::now();
    let mut held_out_by_version: BTreeMap<String, f64> = BTreeMap::new();
    let (version, accuracy) = daemon.accuracy(&held_out)?;
    eprintln!("{version}: {:.2}% on the held-out stream", accuracy * 100.0);
    held_out_by_version.insert(version, accuracy);

    let truth: HashMap<&str, Label> = stream.iter().map(|e| (e.text.as_str(), e.label)).collect();
    let mut tally = Tally::default();
    let mut since_retrain = 0usize;
    for example in &stream {
        let p: PredictResponse = daemon.post(
            "/predict",
            &PredictRequest {
                text: example.text.clone(),
            },
        )?;
        tally.predicted += 1;
        let right = p.label == example.label.to_wire();
        tally.wrong += usize::from(!right);
        // Users correct some of the mistakes; with --flip-labels they lie.
        let share = if right {
            args.confirm_share
        } else {
            args.correct_share
        };
        if rng.random::<f64>() >= share {
            continue;
        }
        let label = if args.flip_labels {
            example.label.flipped()
        } else {
            example.label
        };
        let _: FeedbackResponse = daemon.post(
            "/feedback",
            &FeedbackRequest {
                prediction_id: Some(p.prediction_id),
                correct_label: label.to_wire(),
                text: None,
                predicted_label: None,
                confidence: None,
            },
        )?;
        if right {
            tally.confirmations += 1;
        } else {
            tally.corrections += 1;
        }
        since_retrain += 1;
        if since_retrain >= args.retrain_every {
            since_retrain = 0;
            tally.audit_labelled += daemon.label_audit(&truth)?;
            retrain(&daemon, &held_out, &mut tally, &mut held_out_by_version)?;
        }
    }
    if since_retrain > 0 {
        tally.audit_labelled += daemon.label_audit(&truth)?;
        retrain(&daemon, &held_out, &mut tally, &mut held_out_by_version)?;
    }

    let models: Vec<ModelVersionView> = daemon.get("/admin/models")?;
    if args.output.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&json!({
                "tally": tally,
                "held_out_accuracy": held_out_by_version,
                "models": models,
                "seconds": started.elapsed().as_secs_f64(),
            }))?
        );
        return Ok(());
    }
    let mut table = Table::new();
    table.load_preset(UTF8_FULL_CONDENSED);
    table.set_header(vec![
        "version",
        "status",
        "base test",
        "feedback cross-fitted",
        "audit",
        "held-out stream",
        "decision",
    ]);
    for m in &models {
        let pct = |set: &str| {
            m.accuracy
                .get(set)
                .map_or("-".into(), |v| format!("{:.2}%", v * 100.0))
        };
        let mut status = m.status.clone();
        if m.current {
            status.push_str(" (current)");
        }
        table.add_row(vec![
            m.version.clone(),
            status,
            pct("base_test"),
            pct("feedback_crossfit"),
            pct("audit"),
            held_out_by_version
                .get(&m.version)
                .map_or("-".into(), |a| format!("{:.2}%", a * 100.0)),
            m.decision.chars().take(args.decision_width).collect(),
        ]);
    }
    println!("{table}");
    println!(
        "{} predicted, {} wrong; sent {} corrections and {} confirmations; labelled {} audit items; {} retrains in {:.1} s",
        tally.predicted,
        tally.wrong,
        tally.corrections,
        tally.confirmations,
        tally.audit_labelled,
        tally.retrains.len(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

fn retrain(
    daemon: &Daemon,
    held_out: &[Example],
    tally: &mut Tally,
    held_out_by_version: &mut BTreeMap<String, f64>,
) -> Result<()> {
    let report: RetrainReport = daemon.post("/admin/retrain?wait=true", &json!({}))?;
    eprintln!("retrain: {} {}", report.outcome, report.message);
    if report.outcome == "promoted" {
        let (version, accuracy) = daemon.accuracy(held_out)?;
        eprintln!("{version}: {:.2}% on the held-out stream", accuracy * 100.0);
        held_out_by_version.insert(version, accuracy);
    }
    tally.retrains.push(report);
    Ok(())
}
