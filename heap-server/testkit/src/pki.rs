//! The development and test PKI: a cluster CA (self-signed, ECDSA P-256, PEM files), node
//! certificates it issues (the names every side checks, from `proto::security`, and both
//! serverAuth and clientAuth, since a node is a server to clients and a client of its peers), and
//! the validity windows they carry. Every certificate issued is verified against its CA before it
//! is handed out, as a reader would verify it: what is written is what verifies.

use std::path::Path;
use std::time::Duration;
use std::time::SystemTime;
use std::time::UNIX_EPOCH;

use proto::security::node_cert_file;
use proto::security::node_key_file;
use proto::security::node_server_name;
use proto::security::CA_FILE;
use proto::security::CA_KEY_FILE;
use proto::security::CLUSTER_SERVER_NAME;
use rcgen::BasicConstraints;
use rcgen::CertificateParams;
use rcgen::DistinguishedName;
use rcgen::DnType;
use rcgen::ExtendedKeyUsagePurpose;
use rcgen::IsCa;
use rcgen::Issuer;
use rcgen::KeyPair;
use rcgen::KeyUsagePurpose;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::CertificateDer;
use rustls_pki_types::ServerName;
use rustls_pki_types::UnixTime;

use crate::files::read_bounded;
use crate::files::write_file;
use crate::files::Existing;
use crate::files::PUBLIC_FILE_MODE;
use crate::files::SECRET_FILE_MODE;
use crate::pki_error::PkiError;

/// Validity of the certificates `heapctl dev up` and `heapctl cert` make unless told otherwise.
pub const DEV_VALIDITY_DAYS: u64 = 3_650;
/// The longest validity accepted (a window beyond it is a typo, not a plan).
pub const VALIDITY_DAYS_MAX: u64 = 36_500;
const _: () = assert!(DEV_VALIDITY_DAYS <= VALIDITY_DAYS_MAX);
/// A node certificate is valid from this long before it is made, so a peer whose clock is a
/// little behind accepts it at once.
pub const NODE_NOT_BEFORE_BACKDATE_SECONDS: u64 = 3_600;
/// A CA is valid from this long before it is made, so that test certificates with windows in the
/// recent past (`Validity::expired`) still chain to it and fail only for being expired.
pub const CA_NOT_BEFORE_BACKDATE_SECONDS: u64 = 7 * SECONDS_PER_DAY;
const _: () = assert!(NODE_NOT_BEFORE_BACKDATE_SECONDS < CA_NOT_BEFORE_BACKDATE_SECONDS);
/// `Validity::expired` ends this long before now.
pub const EXPIRED_AGO_SECONDS: u64 = 3_600;
const _: () = assert!(EXPIRED_AGO_SECONDS + NODE_NOT_BEFORE_BACKDATE_SECONDS < CA_NOT_BEFORE_BACKDATE_SECONDS);
const SECONDS_PER_DAY: u64 = 86_400;
/// Largest certificate or key file read (a P-256 key or certificate is under 1 KiB).
pub const PEM_FILE_BYTES_MAX: u64 = 64 * 1024;

/// The CA's subject. A CA loaded from files is rebuilt under this name (rcgen cannot read a
/// certificate's name without the x509 parser), so only a CA `heapctl cert ca` made can issue
/// here; the check after each issue says so plainly if another CA is in the folder.
const CA_COMMON_NAME: &str = "Sovereign cluster CA";
const ORGANIZATION_NAME: &str = "Sovereign";

/// When a certificate is valid: from `not_before` to `not_after`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Validity {
    not_before: SystemTime,
    not_after: SystemTime,
}

fn since_epoch(time: SystemTime, what: &str) -> Result<Duration, PkiError> {
    time.duration_since(UNIX_EPOCH).map_err(|_| PkiError::Validity(format!("{what} is before 1970")))
}

impl Validity {
    /// From `not_before` to `not_after` (which must be later, by at most `VALIDITY_DAYS_MAX`).
    pub fn new(not_before: SystemTime, not_after: SystemTime) -> Result<Self, PkiError> {
        since_epoch(not_before, "the start")?;
        let length = not_after
            .duration_since(not_before)
            .map_err(|_| PkiError::Validity("it ends before it starts: swap the times".into()))?;
        if length.is_zero() {
            return Err(PkiError::Validity("it is empty: give an end after the start".into()));
        }
        if length > Duration::from_secs(VALIDITY_DAYS_MAX * SECONDS_PER_DAY) {
            return Err(PkiError::Validity(format!("it is longer than {VALIDITY_DAYS_MAX} days: give fewer days")));
        }
        Ok(Self { not_before, not_after })
    }

    /// Valid now (from `backdate_seconds` ago) for `days` days.
    fn from_now(days: u64, backdate_seconds: u64) -> Result<Self, PkiError> {
        if days == 0 || days > VALIDITY_DAYS_MAX {
            return Err(PkiError::Validity(format!("{days} days: give 1 to {VALIDITY_DAYS_MAX}")));
        }
        let now = SystemTime::now();
        let not_before = now
            .checked_sub(Duration::from_secs(backdate_seconds))
            .ok_or_else(|| PkiError::Validity("the clock is before 1970: set it".into()))?;
        Self::new(not_before, now + Duration::from_secs(days * SECONDS_PER_DAY))
    }

    /// Valid from a little before now (`NODE_NOT_BEFORE_BACKDATE_SECONDS`) for `days` days.
    pub fn days(days: u64) -> Result<Self, PkiError> {
        Self::from_now(days, NODE_NOT_BEFORE_BACKDATE_SECONDS)
    }

    /// `DEV_VALIDITY_DAYS` from now.
    pub fn dev() -> Result<Self, PkiError> {
        Self::days(DEV_VALIDITY_DAYS)
    }

    /// A window that ended `EXPIRED_AGO_SECONDS` ago (for tests of expired certificates).
    pub fn expired() -> Result<Self, PkiError> {
        let now = SystemTime::now();
        let ago = |seconds| {
            now.checked_sub(Duration::from_secs(seconds))
                .ok_or_else(|| PkiError::Validity("the clock is before 1970: set it".into()))
        };
        Self::new(ago(EXPIRED_AGO_SECONDS + NODE_NOT_BEFORE_BACKDATE_SECONDS)?, ago(EXPIRED_AGO_SECONDS)?)
    }

    pub fn not_before(&self) -> SystemTime {
        self.not_before
    }

    pub fn not_after(&self) -> SystemTime {
        self.not_after
    }

    pub fn is_expired_at(&self, time: SystemTime) -> bool {
        time > self.not_after
    }

    /// A time inside the window, at which an issued certificate is checked.
    fn midpoint(&self) -> SystemTime {
        let length =
            self.not_after.duration_since(self.not_before).expect("Validity::new keeps not_before < not_after");
        self.not_before + length / 2
    }

    fn apply(&self, params: &mut CertificateParams) -> Result<(), PkiError> {
        let epoch = rcgen::date_time_ymd(1970, 1, 1);
        params.not_before = epoch + since_epoch(self.not_before, "the start")?;
        params.not_after = epoch + since_epoch(self.not_after, "the end")?;
        Ok(())
    }
}

fn generate_error(error: rcgen::Error) -> PkiError {
    PkiError::Generate(error.to_string())
}

fn name(common_name: &str) -> DistinguishedName {
    let mut name = DistinguishedName::new();
    name.push(DnType::OrganizationName, ORGANIZATION_NAME);
    name.push(DnType::CommonName, common_name);
    name
}

/// The CA certificate's parameters, without its validity (also the issuer of a loaded CA).
fn ca_params() -> CertificateParams {
    let mut params = CertificateParams::default();
    params.distinguished_name = name(CA_COMMON_NAME);
    // Issues node certificates only, never intermediate CAs.
    params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign, KeyUsagePurpose::DigitalSignature];
    params
}

/// The host of `HOST:PORT` (`[v6]:PORT` gives `v6`).
pub fn host_of(addr: &str) -> Result<&str, PkiError> {
    let (host, port) = addr.rsplit_once(':').ok_or_else(|| PkiError::Address(addr.to_string()))?;
    if host.is_empty() || port.parse::<u16>().is_err() {
        return Err(PkiError::Address(addr.to_string()));
    }
    Ok(host.strip_prefix('[').and_then(|h| h.strip_suffix(']')).unwrap_or(host))
}

/// The subject alternative names of node `id` listening on `host`: its own name, the cluster
/// name, "localhost" and the host (an IP SAN if it is an IP address, else a DNS SAN).
pub fn node_subject_alt_names(id: u64, host: &str) -> Vec<String> {
    let mut names = vec![node_server_name(id), CLUSTER_SERVER_NAME.to_string(), "localhost".to_string()];
    if !host.is_empty() && !names.iter().any(|n| n == host) {
        names.push(host.to_string());
    }
    names
}

/// A node's certificate and private key (PEM).
pub struct NodeCertificate {
    pub id: u64,
    pub cert_pem: String,
    pub key_pem: String,
}

impl std::fmt::Debug for NodeCertificate {
    // Never print the key.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NodeCertificate").field("id", &self.id).finish_non_exhaustive()
    }
}

impl NodeCertificate {
    /// Writes `node<ID>.pem` (0644) and `node<ID>.key` (0600) into `dir`; replaces existing ones
    /// only if `replace`.
    pub fn write(&self, dir: &Path, replace: bool) -> Result<(), PkiError> {
        let cert_path = dir.join(node_cert_file(self.id));
        let existing = if replace {
            Existing::Replace
        } else {
            Existing::Refuse("remove it and the key beside it to issue a new one, or replace it on purpose")
        };
        if let Existing::Refuse(what) = existing {
            if cert_path.exists() {
                return Err(PkiError::Exists { path: cert_path.display().to_string(), what });
            }
        }
        // The key first: after a crash between the two a fresh issue finds no certificate and
        // replaces the lone key; a replacement interrupted there is repaired by issuing again.
        write_file(&dir.join(node_key_file(self.id)), self.key_pem.as_bytes(), SECRET_FILE_MODE, Existing::Replace)?;
        write_file(&cert_path, self.cert_pem.as_bytes(), PUBLIC_FILE_MODE, existing)
    }
}

/// A cluster CA: its certificate and the key that signs node certificates.
pub struct CertificateAuthority {
    cert_pem: String,
    cert_der: CertificateDer<'static>,
    issuer: Issuer<'static, KeyPair>,
}

impl CertificateAuthority {
    /// A new CA valid for `days` days (from `CA_NOT_BEFORE_BACKDATE_SECONDS` ago).
    pub fn create(days: u64) -> Result<Self, PkiError> {
        let key = KeyPair::generate().map_err(generate_error)?;
        let mut params = ca_params();
        Validity::from_now(days, CA_NOT_BEFORE_BACKDATE_SECONDS)?.apply(&mut params)?;
        let cert = params.self_signed(&key).map_err(generate_error)?;
        Ok(Self { cert_pem: cert.pem(), cert_der: cert.der().clone(), issuer: Issuer::new(ca_params(), key) })
    }

    /// The CA in `dir` (`ca.pem` and `ca.key`).
    pub fn load(dir: &Path) -> Result<Self, PkiError> {
        let cert_path = dir.join(CA_FILE);
        let key_path = dir.join(CA_KEY_FILE);
        let cert_pem = read_bounded(&cert_path, PEM_FILE_BYTES_MAX)?;
        let bad = |path: &Path, reason: String| PkiError::BadCa { path: path.display().to_string(), reason };
        let cert_der = CertificateDer::from_pem_slice(cert_pem.as_bytes())
            .map_err(|e| bad(&cert_path, format!("no PEM certificate in it ({e})")))?;
        webpki::anchor_from_trusted_cert(&cert_der)
            .map_err(|e| bad(&cert_path, format!("not a CA certificate ({e})")))?;
        let key_pem = read_bounded(&key_path, PEM_FILE_BYTES_MAX)?;
        let key =
            KeyPair::from_pem(&key_pem).map_err(|e| bad(&key_path, format!("no usable private key in it ({e})")))?;
        Ok(Self { cert_pem, cert_der, issuer: Issuer::new(ca_params(), key) })
    }

    /// Writes `ca.key` (0600) and `ca.pem` (0644) into `dir`; never replaces a CA.
    pub fn write(&self, dir: &Path) -> Result<(), PkiError> {
        const KEEP: &str =
            "a folder holds one CA: pick another folder, or remove the old CA and every certificate it issued";
        let cert_path = dir.join(CA_FILE);
        if cert_path.exists() {
            return Err(PkiError::Exists { path: cert_path.display().to_string(), what: KEEP });
        }
        let key_pem = self.issuer.key().serialize_pem();
        write_file(&dir.join(CA_KEY_FILE), key_pem.as_bytes(), SECRET_FILE_MODE, Existing::Refuse(KEEP))?;
        write_file(&cert_path, self.cert_pem.as_bytes(), PUBLIC_FILE_MODE, Existing::Refuse(KEEP))
    }

    pub fn cert_pem(&self) -> &str {
        &self.cert_pem
    }

    pub fn cert_der(&self) -> &CertificateDer<'static> {
        &self.cert_der
    }

    /// A certificate and new key for node `id` listening on `host`, valid in `validity`.
    pub fn issue_node(&self, id: u64, host: &str, validity: Validity) -> Result<NodeCertificate, PkiError> {
        let mut params = CertificateParams::new(node_subject_alt_names(id, host)).map_err(generate_error)?;
        params.distinguished_name = name(&node_server_name(id));
        params.is_ca = IsCa::ExplicitNoCa;
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth, ExtendedKeyUsagePurpose::ClientAuth];
        validity.apply(&mut params)?;
        let key = KeyPair::generate().map_err(generate_error)?;
        let cert = params.signed_by(&key, &self.issuer).map_err(generate_error)?;
        let at = UnixTime::since_unix_epoch(since_epoch(validity.midpoint(), "the window")?);
        verify_node_certificate(&self.cert_der, cert.der(), id, at)
            .map_err(|reason| PkiError::IssuedDoesNotVerify { id, reason })?;
        Ok(NodeCertificate { id, cert_pem: cert.pem(), key_pem: key.serialize_pem() })
    }
}

/// Checks that `cert` chains to `ca` at `time` for both server and client use, and carries node
/// `id`'s name and the cluster name: what a client and a peer check. The error in words.
pub fn verify_node_certificate(
    ca: &CertificateDer<'_>,
    cert: &CertificateDer<'_>,
    id: u64,
    time: UnixTime,
) -> Result<(), String> {
    let anchor = webpki::anchor_from_trusted_cert(ca).map_err(|e| format!("the CA certificate: {e}"))?;
    let end_entity = webpki::EndEntityCert::try_from(cert).map_err(|e| format!("the node certificate: {e}"))?;
    for usage in [webpki::KeyUsage::server_auth(), webpki::KeyUsage::client_auth()] {
        end_entity
            .verify_for_usage(
                webpki::ALL_VERIFICATION_ALGS,
                std::slice::from_ref(&anchor),
                &[],
                time,
                usage,
                None,
                None,
            )
            .map_err(|e| format!("chain: {e}"))?;
    }
    for name in [node_server_name(id), CLUSTER_SERVER_NAME.to_string()] {
        let server_name = ServerName::try_from(name.as_str()).map_err(|e| format!("name {name}: {e}"))?;
        end_entity.verify_is_valid_for_subject_name(&server_name).map_err(|e| format!("name {name}: {e}"))?;
    }
    Ok(())
}

#[cfg(test)]
#[path = "pki_test.rs"]
mod tests;
