//! `ClusterSecurity`: one cluster's security folder (`proto::security` file names): the CA, a
//! certificate and key per node, `tokens.toml` and the token files. `heapctl dev up`, the probes
//! and the test clusters make it with `create` (or reuse it with `open`), start nodes with
//! `node_flags` and clients with `client_security`.

use std::path::Path;
use std::path::PathBuf;

use heap_client::ClientSecurity;
use proto::security::node_cert_file;
use proto::security::node_key_file;
use proto::security::ADMIN_TOKEN_FILE;
use proto::security::CA_FILE;
use proto::security::CA_KEY_FILE;
use proto::security::TOKENS_FILE;

use crate::files::create_security_dir;
use crate::pki::host_of;
use crate::pki::CertificateAuthority;
use crate::pki::Validity;
use crate::pki::DEV_VALIDITY_DAYS;
use crate::pki_error::PkiError;
use crate::tokens::append_token;
use crate::tokens::check_token_name;
use crate::tokens::new_token;
use crate::tokens::read_token_file;
use crate::tokens::read_tokens_file;
use crate::tokens::token_digest;
use crate::tokens::write_token_file;
use crate::tokens::Role;

/// The credential `create` makes for operators (heapctl, the benchmark): role admin.
pub const ADMIN_TOKEN_NAME: &str = "admin";
/// The credential `create` makes for applications (the samples): role write.
pub const APP_TOKEN_NAME: &str = "app";
/// Suffix of a token file: credential `app` is in `app.token`.
pub const TOKEN_FILE_SUFFIX: &str = ".token";
/// The security folder's name under a cluster's data dir (`data/security` for `heapctl dev up`).
pub const SECURITY_DIR_NAME: &str = "security";

/// A cluster's security folder. Holds the admin client security read when opened.
#[derive(Debug, Clone)]
pub struct ClusterSecurity {
    dir: PathBuf,
    admin: ClientSecurity,
}

impl ClusterSecurity {
    /// A new folder `dir` (created, mode 0700) with a CA, certificates for `nodes` (id and
    /// HOST:PORT), and the credentials `admin` (role admin) and `app` (role write), all valid
    /// `DEV_VALIDITY_DAYS`. Refuses a folder that already has a CA (`open` reuses one).
    pub fn create(dir: &Path, nodes: &[(u64, String)]) -> Result<Self, PkiError> {
        for (_, addr) in nodes {
            host_of(addr)?;
        }
        if dir.join(CA_FILE).exists() || dir.join(CA_KEY_FILE).exists() {
            return Err(PkiError::Exists {
                path: dir.join(CA_FILE).display().to_string(),
                what: "this folder already has a CA: open it instead, or remove the folder for a new cluster",
            });
        }
        create_security_dir(dir)?;
        let dir = canonical(dir)?;
        let ca = CertificateAuthority::create(DEV_VALIDITY_DAYS)?;
        ca.write(&dir)?;
        for (id, addr) in nodes {
            ca.issue_node(*id, host_of(addr)?, Validity::dev()?)?.write(&dir, false)?;
        }
        let partial = Self { dir: dir.clone(), admin: ClientSecurity::plaintext() };
        partial.add_token(ADMIN_TOKEN_NAME, Role::Admin)?;
        partial.add_token(APP_TOKEN_NAME, Role::Write)?;
        Self::open(&dir)
    }

    /// An existing folder: it must hold `ca.pem` and `tokens.toml` (checked); the admin token is
    /// read if there is one.
    pub fn open(dir: &Path) -> Result<Self, PkiError> {
        let dir = canonical(dir)?;
        let tokens_file = dir.join(TOKENS_FILE);
        if !tokens_file.exists() {
            let error = std::io::Error::from(std::io::ErrorKind::NotFound);
            return Err(PkiError::Io { action: "find", path: tokens_file.display().to_string(), error });
        }
        read_tokens_file(&tokens_file)?;
        let admin = ClientSecurity::from_dir(&dir)?;
        Ok(Self { dir, admin })
    }

    /// `open` if `dir` has a CA (issuing certificates for the nodes that have none), else `create`.
    pub fn open_or_create(dir: &Path, nodes: &[(u64, String)]) -> Result<Self, PkiError> {
        if !dir.join(CA_FILE).exists() {
            return Self::create(dir, nodes);
        }
        let security = Self::open(dir)?;
        security.issue_missing_node_certs(nodes)?;
        Ok(security)
    }

    /// Issues a certificate (valid `DEV_VALIDITY_DAYS`) for each of `nodes` that has none;
    /// returns their ids.
    pub fn issue_missing_node_certs(&self, nodes: &[(u64, String)]) -> Result<Vec<u64>, PkiError> {
        let missing: Vec<&(u64, String)> = nodes.iter().filter(|(id, _)| !self.node_cert_file(*id).exists()).collect();
        if missing.is_empty() {
            return Ok(Vec::new());
        }
        let ca = CertificateAuthority::load(&self.dir)?;
        for (id, addr) in &missing {
            ca.issue_node(*id, host_of(addr)?, Validity::dev()?)?.write(&self.dir, false)?;
        }
        Ok(missing.into_iter().map(|(id, _)| *id).collect())
    }

    /// A new certificate and key for node `id` listening on `host` (a HOST, not HOST:PORT),
    /// valid in `validity`, replacing the old ones (rotation and expiry tests).
    pub fn reissue_node_cert(&self, id: u64, host: &str, validity: Validity) -> Result<(), PkiError> {
        CertificateAuthority::load(&self.dir)?.issue_node(id, host, validity)?.write(&self.dir, true)
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn ca_file(&self) -> PathBuf {
        self.dir.join(CA_FILE)
    }

    pub fn tokens_file(&self) -> PathBuf {
        self.dir.join(TOKENS_FILE)
    }

    pub fn admin_token_file(&self) -> PathBuf {
        self.dir.join(ADMIN_TOKEN_FILE)
    }

    pub fn node_cert_file(&self, id: u64) -> PathBuf {
        self.dir.join(node_cert_file(id))
    }

    pub fn node_key_file(&self, id: u64) -> PathBuf {
        self.dir.join(node_key_file(id))
    }

    /// `<name>.token` in the folder.
    pub fn token_file(&self, name: &str) -> Result<PathBuf, PkiError> {
        check_token_name(name)?;
        Ok(self.dir.join(format!("{name}{TOKEN_FILE_SUFFIX}")))
    }

    /// heap-server's security flags for node `id`: its certificate, key, the CA and the tokens.
    pub fn node_flags(&self, id: u64) -> Vec<String> {
        let path = |p: PathBuf| p.display().to_string();
        vec![
            "--tls-ca".into(),
            path(self.ca_file()),
            "--tls-cert".into(),
            path(self.node_cert_file(id)),
            "--tls-key".into(),
            path(self.node_key_file(id)),
            "--tokens".into(),
            path(self.tokens_file()),
        ]
    }

    /// The CA and admin token, read from the folder now.
    pub fn client_security(&self) -> Result<ClientSecurity, PkiError> {
        Ok(ClientSecurity::from_dir(&self.dir)?)
    }

    /// The CA and admin token as read when the folder was opened.
    pub fn admin_client_security(&self) -> &ClientSecurity {
        &self.admin
    }

    /// The CA and credential `name`'s token (for tests with several credentials).
    pub fn client_security_as(&self, name: &str) -> Result<ClientSecurity, PkiError> {
        let token = self.token(name)?;
        Ok(ClientSecurity::from_dir(&self.dir)?.with_token(&token)?)
    }

    /// The token of credential `name` (from `<name>.token`).
    pub fn token(&self, name: &str) -> Result<String, PkiError> {
        read_token_file(&self.token_file(name)?)
    }

    /// A new credential `name` with `role`: its digest goes into `tokens.toml`, the token into
    /// `<name>.token` (0600); returns the token. Nodes read `tokens.toml` when they start.
    pub fn add_token(&self, name: &str, role: Role) -> Result<String, PkiError> {
        let token_file = self.token_file(name)?;
        if read_tokens_file(&self.tokens_file())?.iter().any(|entry| entry.name == name) {
            return Err(PkiError::DuplicateToken { name: name.into(), path: self.tokens_file().display().to_string() });
        }
        let token = new_token()?;
        write_token_file(&token_file, &token)?;
        if let Err(error) = append_token(&self.tokens_file(), name, role, &token_digest(&token)) {
            // No entry, no token: the name stays free.
            let _ = std::fs::remove_file(&token_file);
            return Err(error);
        }
        Ok(token)
    }
}

fn canonical(dir: &Path) -> Result<PathBuf, PkiError> {
    dir.canonicalize().map_err(|error| PkiError::Io { action: "open", path: dir.display().to_string(), error })
}

#[cfg(test)]
#[path = "cluster_security_test.rs"]
mod tests;
