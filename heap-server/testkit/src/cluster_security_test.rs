//! Tests of a security folder: what `create` writes (and its modes), the node flags, the
//! credentials, reuse by `open_or_create`, and reissuing a node certificate.

#![allow(clippy::unwrap_used)]

use std::os::unix::fs::PermissionsExt;
use std::time::SystemTime;
use std::time::UNIX_EPOCH;

use proto::security::DEV_SECURITY_DIR;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::CertificateDer;
use rustls_pki_types::UnixTime;

use super::*;
use crate::pki::verify_node_certificate;
use crate::tokens::token_digest;

fn nodes() -> Vec<(u64, String)> {
    (1..=3).map(|id| (id, format!("127.0.0.1:{}", 7100 + id))).collect()
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

fn der(path: &Path) -> CertificateDer<'static> {
    CertificateDer::from_pem_file(path).unwrap()
}

fn unix_now() -> UnixTime {
    UnixTime::since_unix_epoch(SystemTime::now().duration_since(UNIX_EPOCH).unwrap())
}

#[test]
fn the_dev_folder_is_the_security_folder_of_the_default_data_dir() {
    assert_eq!(Path::new("data").join(SECURITY_DIR_NAME), Path::new(DEV_SECURITY_DIR));
}

#[test]
fn create_writes_the_ca_node_certificates_and_two_credentials() {
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("security");
    let security = ClusterSecurity::create(&dir, &nodes()).unwrap();
    assert_eq!(mode(&dir), 0o700);
    for (file, expected) in
        [("ca.pem", 0o644), ("ca.key", 0o600), ("tokens.toml", 0o600), ("admin.token", 0o600), ("app.token", 0o600)]
    {
        assert_eq!(mode(&dir.join(file)), expected, "{file}");
    }
    for id in 1..=3 {
        assert_eq!(mode(&security.node_key_file(id)), 0o600);
        verify_node_certificate(&der(&security.ca_file()), &der(&security.node_cert_file(id)), id, unix_now()).unwrap();
    }
    let entries = read_tokens_file(&security.tokens_file()).unwrap();
    let roles: Vec<(&str, Role)> = entries.iter().map(|e| (e.name.as_str(), e.role)).collect();
    assert_eq!(roles, vec![("admin", Role::Admin), ("app", Role::Write)]);
    for entry in &entries {
        assert_eq!(entry.sha256, token_digest(&security.token(&entry.name).unwrap()));
    }
    let client = security.client_security().unwrap();
    assert!(client.is_tls());
    assert_eq!(client.token.as_deref(), Some(security.token("admin").unwrap().as_str()));
    assert_eq!(security.admin_client_security().token, client.token);

    let error = ClusterSecurity::create(&dir, &nodes()).unwrap_err();
    assert!(matches!(error, PkiError::Exists { .. }), "{error}");
}

#[test]
fn node_flags_name_the_folder_files() {
    let root = tempfile::tempdir().unwrap();
    let security = ClusterSecurity::create(root.path(), &nodes()[..1]).unwrap();
    let flags = security.node_flags(1);
    let dir = security.dir().display().to_string();
    assert_eq!(
        flags,
        vec![
            "--tls-ca".to_string(),
            format!("{dir}/ca.pem"),
            "--tls-cert".into(),
            format!("{dir}/node1.pem"),
            "--tls-key".into(),
            format!("{dir}/node1.key"),
            "--tokens".into(),
            format!("{dir}/tokens.toml"),
        ]
    );
    assert!(security.dir().is_absolute(), "nodes may run elsewhere");
}

#[test]
fn more_credentials_can_be_added_once_each() {
    let root = tempfile::tempdir().unwrap();
    let security = ClusterSecurity::create(root.path(), &nodes()).unwrap();
    let token = security.add_token("reader", Role::Read).unwrap();
    assert_eq!(security.token("reader").unwrap(), token);
    assert_eq!(mode(&security.token_file("reader").unwrap()), 0o600);
    assert_eq!(security.client_security_as("reader").unwrap().token.as_deref(), Some(token.as_str()));
    let error = security.add_token("reader", Role::Admin).unwrap_err();
    assert!(matches!(error, PkiError::DuplicateToken { .. }), "{error}");
    assert_eq!(security.token("reader").unwrap(), token, "the first token stays");
    assert!(matches!(security.add_token("../x", Role::Read), Err(PkiError::TokenName(_))));
}

#[test]
fn open_or_create_reuses_the_ca_and_issues_only_missing_certificates() {
    let root = tempfile::tempdir().unwrap();
    let first = ClusterSecurity::open_or_create(root.path(), &nodes()[..2]).unwrap();
    let ca_before = std::fs::read(first.ca_file()).unwrap();
    let node1_before = std::fs::read(first.node_cert_file(1)).unwrap();
    let admin_before = first.token("admin").unwrap();

    let again = ClusterSecurity::open_or_create(root.path(), &nodes()).unwrap();
    assert_eq!(std::fs::read(again.ca_file()).unwrap(), ca_before);
    assert_eq!(std::fs::read(again.node_cert_file(1)).unwrap(), node1_before);
    assert_eq!(again.token("admin").unwrap(), admin_before);
    verify_node_certificate(&der(&again.ca_file()), &der(&again.node_cert_file(3)), 3, unix_now()).unwrap();
    assert_eq!(again.issue_missing_node_certs(&nodes()).unwrap(), Vec::<u64>::new());
}

#[test]
fn open_needs_a_folder_with_a_ca_and_tokens() {
    let root = tempfile::tempdir().unwrap();
    let error = ClusterSecurity::open(root.path()).unwrap_err();
    assert!(error.to_string().contains("tokens.toml"), "{error}");
}

#[test]
fn a_reissued_certificate_replaces_the_old_one() {
    let root = tempfile::tempdir().unwrap();
    let security = ClusterSecurity::create(root.path(), &nodes()).unwrap();
    let before = std::fs::read(security.node_cert_file(2)).unwrap();
    security.reissue_node_cert(2, "127.0.0.1", Validity::expired().unwrap()).unwrap();
    assert_ne!(std::fs::read(security.node_cert_file(2)).unwrap(), before);
    let error = verify_node_certificate(&der(&security.ca_file()), &der(&security.node_cert_file(2)), 2, unix_now())
        .unwrap_err();
    assert!(error.contains("expired") || error.contains("Expired"), "{error}");
    assert_eq!(mode(&security.node_key_file(2)), 0o600);
}
