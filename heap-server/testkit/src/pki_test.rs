//! Tests of the development PKI, checked with rustls-webpki as nodes and clients check: a node
//! certificate verifies for its own name and the cluster name and no other node's, an expired
//! one is expired, a loaded CA issues what the written one would, and keys are private.

#![allow(clippy::unwrap_used)]

use std::os::unix::fs::PermissionsExt;
use std::time::SystemTime;

use rustls_pki_types::PrivateKeyDer;

use super::*;

fn unix_now() -> UnixTime {
    UnixTime::since_unix_epoch(SystemTime::now().duration_since(UNIX_EPOCH).unwrap())
}

fn der(pem: &str) -> CertificateDer<'static> {
    CertificateDer::from_pem_slice(pem.as_bytes()).unwrap()
}

/// Verifies `cert` against `ca` at `time` for `usage` and then for `name`, as webpki does in a
/// TLS handshake.
fn verify(
    ca: &CertificateDer<'_>,
    cert: &CertificateDer<'_>,
    name: &str,
    time: UnixTime,
    usage: webpki::KeyUsage,
) -> Result<(), webpki::Error> {
    let anchor = webpki::anchor_from_trusted_cert(ca).unwrap();
    let end_entity = webpki::EndEntityCert::try_from(cert).unwrap();
    end_entity.verify_for_usage(webpki::ALL_VERIFICATION_ALGS, &[anchor], &[], time, usage, None, None)?;
    end_entity.verify_is_valid_for_subject_name(&ServerName::try_from(name.to_string()).unwrap())
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[test]
fn a_node_certificate_verifies_for_its_names_and_not_for_another_node() {
    let ca = CertificateAuthority::create(DEV_VALIDITY_DAYS).unwrap();
    let node = ca.issue_node(2, "127.0.0.1", Validity::dev().unwrap()).unwrap();
    let cert = der(&node.cert_pem);
    for usage in [webpki::KeyUsage::server_auth(), webpki::KeyUsage::client_auth()] {
        for name in ["node-2.sovereign", CLUSTER_SERVER_NAME, "localhost", "127.0.0.1"] {
            verify(ca.cert_der(), &cert, name, unix_now(), usage).unwrap_or_else(|e| panic!("{name}: {e}"));
        }
    }
    for other in ["node-3.sovereign", "node-1.sovereign", "node-22.sovereign", "10.0.0.1"] {
        let error = verify(ca.cert_der(), &cert, other, unix_now(), webpki::KeyUsage::server_auth()).unwrap_err();
        assert!(matches!(error, webpki::Error::CertNotValidForName(_)), "{other}: {error:?}");
    }
}

#[test]
fn a_dns_host_becomes_a_dns_name_and_an_ip_host_an_ip_address() {
    assert_eq!(
        node_subject_alt_names(4, "db.example"),
        vec!["node-4.sovereign", CLUSTER_SERVER_NAME, "localhost", "db.example"]
    );
    assert_eq!(node_subject_alt_names(4, "localhost").len(), 3, "no duplicate");
    let ca = CertificateAuthority::create(1).unwrap();
    let node = ca.issue_node(4, "db.example", Validity::days(1).unwrap()).unwrap();
    verify(ca.cert_der(), &der(&node.cert_pem), "db.example", unix_now(), webpki::KeyUsage::server_auth()).unwrap();
    let v6 = ca.issue_node(5, host_of("[::1]:7101").unwrap(), Validity::days(1).unwrap()).unwrap();
    verify(ca.cert_der(), &der(&v6.cert_pem), "::1", unix_now(), webpki::KeyUsage::server_auth()).unwrap();
}

#[test]
fn a_certificate_from_another_ca_does_not_verify() {
    let ca = CertificateAuthority::create(1).unwrap();
    let other = CertificateAuthority::create(1).unwrap();
    let node = other.issue_node(1, "127.0.0.1", Validity::days(1).unwrap()).unwrap();
    let error =
        verify(ca.cert_der(), &der(&node.cert_pem), CLUSTER_SERVER_NAME, unix_now(), webpki::KeyUsage::server_auth())
            .unwrap_err();
    assert!(matches!(error, webpki::Error::UnknownIssuer | webpki::Error::InvalidSignatureForPublicKey), "{error:?}");
}

#[test]
fn an_expired_certificate_is_expired() {
    let ca = CertificateAuthority::create(1).unwrap();
    let validity = Validity::expired().unwrap();
    assert!(validity.is_expired_at(SystemTime::now()));
    let node = ca.issue_node(1, "127.0.0.1", validity).unwrap();
    let error =
        verify(ca.cert_der(), &der(&node.cert_pem), "node-1.sovereign", unix_now(), webpki::KeyUsage::server_auth())
            .unwrap_err();
    assert!(matches!(error, webpki::Error::CertExpired { .. }), "{error:?}");
    // It was valid inside its window: only the time makes it fail.
    let inside = UnixTime::since_unix_epoch(validity.midpoint().duration_since(UNIX_EPOCH).unwrap());
    verify(ca.cert_der(), &der(&node.cert_pem), "node-1.sovereign", inside, webpki::KeyUsage::server_auth()).unwrap();
}

#[test]
fn validity_windows_are_checked() {
    let now = SystemTime::now();
    assert!(Validity::new(now, now).is_err());
    assert!(Validity::new(now + Duration::from_secs(1), now).is_err());
    assert!(Validity::days(0).is_err());
    assert!(Validity::days(VALIDITY_DAYS_MAX + 1).is_err());
    let dev = Validity::dev().unwrap();
    assert!(dev.not_before() < now && !dev.is_expired_at(now));
}

#[test]
fn a_written_ca_loads_and_issues_certificates_that_verify_against_its_file() {
    let dir = tempfile::tempdir().unwrap();
    let created = CertificateAuthority::create(DEV_VALIDITY_DAYS).unwrap();
    created.write(dir.path()).unwrap();
    assert_eq!(mode(&dir.path().join(CA_KEY_FILE)), 0o600);
    assert_eq!(mode(&dir.path().join(CA_FILE)), 0o644);
    let error = CertificateAuthority::create(1).unwrap().write(dir.path()).unwrap_err();
    assert!(matches!(error, PkiError::Exists { .. }), "a CA is never overwritten: {error}");

    let loaded = CertificateAuthority::load(dir.path()).unwrap();
    assert_eq!(loaded.cert_pem(), created.cert_pem());
    let node = loaded.issue_node(3, "127.0.0.1", Validity::dev().unwrap()).unwrap();
    node.write(dir.path(), false).unwrap();
    let ca_file = der(&std::fs::read_to_string(dir.path().join(CA_FILE)).unwrap());
    let cert_file = der(&std::fs::read_to_string(dir.path().join(node_cert_file(3))).unwrap());
    verify(&ca_file, &cert_file, "node-3.sovereign", unix_now(), webpki::KeyUsage::client_auth()).unwrap();
    let key_path = dir.path().join(node_key_file(3));
    assert_eq!(mode(&key_path), 0o600);
    assert!(PrivateKeyDer::from_pem_file(&key_path).is_ok(), "the key parses as nodes parse it");
    assert!(matches!(node.write(dir.path(), false), Err(PkiError::Exists { .. })), "not replaced unasked");
    node.write(dir.path(), true).unwrap();
    assert!(!format!("{node:?}").contains("PRIVATE"), "the key is never printed");
}

#[test]
fn a_ca_made_elsewhere_is_refused_with_advice() {
    let dir = tempfile::tempdir().unwrap();
    let key = KeyPair::generate().unwrap();
    let mut params = CertificateParams::default();
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign];
    std::fs::write(dir.path().join(CA_FILE), params.self_signed(&key).unwrap().pem()).unwrap();
    std::fs::write(dir.path().join(CA_KEY_FILE), key.serialize_pem()).unwrap();
    let ca = CertificateAuthority::load(dir.path()).unwrap();
    let error = ca.issue_node(1, "127.0.0.1", Validity::days(1).unwrap()).unwrap_err();
    assert!(matches!(error, PkiError::IssuedDoesNotVerify { id: 1, .. }), "{error}");
    assert!(error.to_string().contains("heapctl cert ca"), "{error}");

    std::fs::write(dir.path().join(CA_FILE), "not a certificate").unwrap();
    let error = CertificateAuthority::load(dir.path()).err().unwrap();
    assert!(matches!(error, PkiError::BadCa { .. }), "{error}");
}

#[test]
fn addresses_give_their_host() {
    assert_eq!(host_of("127.0.0.1:7101").unwrap(), "127.0.0.1");
    assert_eq!(host_of("db.example:1").unwrap(), "db.example");
    assert_eq!(host_of("[::1]:7101").unwrap(), "::1");
    for bad in ["127.0.0.1", ":7101", "host:port", "host:70000"] {
        assert!(matches!(host_of(bad), Err(PkiError::Address(_))), "{bad}");
    }
}
