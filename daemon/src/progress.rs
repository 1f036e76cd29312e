//! A progress display for training, on stderr, that stays quiet when it is not a
//! terminal (CI logs, pipes).

use indicatif::{ProgressBar, ProgressStyle};
use sentiment_core::TrainProgress;
use std::time::Duration;

pub struct TrainingProgress {
    bar: ProgressBar,
}

impl TrainingProgress {
    pub fn start(what: &str) -> Self {
        let bar = ProgressBar::new_spinner();
        bar.set_style(
            ProgressStyle::with_template("{spinner} [{elapsed_precise}] {msg}")
                .expect("the template is valid"),
        );
        bar.enable_steady_tick(Duration::from_millis(100));
        bar.set_message(format!("{what}: reading and vectorising"));
        TrainingProgress { bar }
    }

    pub fn update(&self, progress: TrainProgress) {
        match progress {
            TrainProgress::Vectorised {
                rows,
                features,
                nonzeros,
                seconds,
            } => self.bar.println(format!(
                "vectorised {rows} texts into {features} features ({nonzeros} non-zeros) in {seconds:.2} s"
            )),
            TrainProgress::Optimising {
                evaluations,
                objective,
            } => self.bar.set_message(format!(
                "optimising: pass {evaluations}, objective {objective:.5}"
            )),
        }
    }

    pub fn set_message(&self, message: String) {
        self.bar.set_message(message);
    }

    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}
