//! Writing to the Hub: several files in one commit, so readers never see half an update.

use super::client::HubClient;
use super::error::HubError;
use hf_hub::repository::CommitOperation;
use std::path::PathBuf;

impl HubClient {
    /// Commits `files` (path in the repository, content) to the model repository `repo`
    /// on `main` in one commit, and returns the new commit's id. Small files go inline
    /// (base64); hf-hub's preupload step decides, and switches to Xet for large ones.
    pub fn commit_model_files(
        &self,
        repo: &str,
        files: Vec<(String, Vec<u8>)>,
        message: &str,
    ) -> Result<String, HubError> {
        self.commit_model_files_on(repo, files, message, None)
    }

    /// [`HubClient::commit_model_files`], failing (412) if `main` moved past `parent`.
    pub fn commit_model_files_on(
        &self,
        repo: &str,
        files: Vec<(String, Vec<u8>)>,
        message: &str,
        parent: Option<String>,
    ) -> Result<String, HubError> {
        self.require_token(&format!("pushing to the model repository {repo}"))?;
        let operations = files
            .into_iter()
            .map(|(path, bytes)| CommitOperation::add_bytes(path, bytes))
            .collect();
        let info = self
            .model(repo)
            .create_commit()
            .operations(operations)
            .commit_message(message)
            .maybe_parent_commit(parent)
            .send()
            .map_err(|e| self.context(repo, "model", "write").map(e))?;
        Ok(info.commit_oid.unwrap_or_default())
    }

    /// Downloads one file of the model repository `repo` (at `main`) into the cache and
    /// returns its local path.
    pub fn download_model_file(&self, repo: &str, path: &str) -> Result<PathBuf, HubError> {
        self.model(repo)
            .download_file()
            .filename(path)
            .send()
            .map_err(|e| self.context(repo, "model", "read").map(e))
    }
}
