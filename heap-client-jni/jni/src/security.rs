//! What `org.sovereign.heap.Security` hands to `Native.connect` (the CA's PEM bytes or null, the
//! token or null) turned into a `heap_client::ClientSecurity`, and the hint a failed connect gets
//! when the client's TLS choice may not match the cluster's. Pure functions, tested without a JVM.

use heap_client::ClientError;
use heap_client::ClientSecurity;
use heap_client::HeapError;
use heap_client::SecurityError;

/// Largest CA certificate Java may pass: `Security.CA_FILE_BYTES_MAX` on the Java side is the
/// same number, and `heap_client`'s bound on the CA files it reads is this one.
pub const CA_PEM_BYTES_MAX: usize = heap_client::CA_FILE_BYTES_MAX as usize;

/// What the client reports when a node answers in a protocol it did not expect: a plaintext
/// client's HTTP/2 preface reaches a TLS node, which answers with a TLS alert that HTTP/2 cannot
/// parse. heap-client passes it on as a rejection (retrying does not help), in tonic's words.
const PROTOCOL_ERROR_TEXT: &str = "h2 protocol error";

/// A security error as the heap error Java sees (`HeapRejectedException`: fix the configuration).
fn rejected(error: SecurityError) -> HeapError {
    HeapError::from(ClientError::from(error))
}

/// The client security for `ca_pem` (None: plaintext) and `token` (None: anonymous); the token is
/// checked by `ClientSecurity::with_token` (trimmed, non-empty, bounded, printable ASCII).
pub fn client_security(ca_pem: Option<Vec<u8>>, token: Option<&str>) -> Result<ClientSecurity, HeapError> {
    if let Some(pem) = &ca_pem {
        if pem.is_empty() {
            return Err(HeapError::Rejected(
                "the CA certificate is empty; give the cluster CA's ca.pem (Security.withCaFile)".into(),
            ));
        }
        if pem.len() > CA_PEM_BYTES_MAX {
            return Err(HeapError::Rejected(format!(
                "the CA certificate is {} bytes, more than the {CA_PEM_BYTES_MAX} a client reads; give the \
                 cluster CA's ca.pem (Security.withCaFile)",
                pem.len()
            )));
        }
    }
    let security = ClientSecurity { ca_pem, token: None };
    match token {
        None => Ok(security),
        Some(token) => security.with_token(token).map_err(rejected),
    }
}

/// Adds to a failed connect's error what a TLS mismatch would look like from this side: a
/// plaintext client of a secured cluster sees an HTTP/2 protocol error (or nodes that do not
/// answer), a TLS client of a plaintext cluster or of another CA's nodes sees nodes that do not
/// answer. Other errors (the cluster's own answers, such as an unknown token) pass unchanged.
pub fn with_connect_hint(error: HeapError, tls: bool) -> HeapError {
    let hint = if tls {
        "This client spoke TLS: if the cluster was started with --insecure-plaintext, connect with \
         Security.plaintext(); otherwise check that the CA certificate is the one that issued the nodes' \
         certificates"
    } else {
        "This client spoke plaintext (no CA certificate given): if the cluster is secured (TLS), connect \
         with its CA, e.g. Security.fromDirectory(folder with ca.pem and admin.token), or set \
         SOVEREIGN_SECURITY_DIR"
    };
    match error {
        HeapError::Unavailable(message) => HeapError::Unavailable(format!("{message}. {hint}")),
        HeapError::Rejected(message) if !tls && message.contains(PROTOCOL_ERROR_TEXT) => {
            HeapError::Rejected(format!("{message}. {hint}"))
        }
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_ca_and_no_token_is_plaintext_and_anonymous() {
        let security = client_security(None, None).expect("plaintext is valid");
        assert!(!security.is_tls());
        assert_eq!(security.token, None);
    }

    #[test]
    fn the_ca_and_the_checked_token_are_kept() {
        let security = client_security(Some(b"pem".to_vec()), Some(" abc\n")).expect("valid");
        assert!(security.is_tls());
        assert_eq!(security.ca_pem.as_deref(), Some(&b"pem"[..]));
        assert_eq!(security.token.as_deref(), Some("abc"));
    }

    #[test]
    fn a_bad_token_is_rejected_without_showing_it() {
        let error = client_security(None, Some("secret with space")).expect_err("refused");
        assert!(matches!(error, HeapError::Rejected(_)), "{error:?}");
        let message = error.to_string();
        assert!(!message.contains("secret"), "{message}");
        assert!(message.contains("token"), "{message}");
        assert!(matches!(client_security(None, Some("  ")), Err(HeapError::Rejected(_))));
    }

    #[test]
    fn an_empty_or_oversized_ca_is_rejected() {
        assert!(matches!(client_security(Some(Vec::new()), None), Err(HeapError::Rejected(_))));
        let oversized = vec![b'x'; CA_PEM_BYTES_MAX + 1];
        assert!(matches!(client_security(Some(oversized), None), Err(HeapError::Rejected(_))));
        let largest = vec![b'x'; CA_PEM_BYTES_MAX];
        assert!(client_security(Some(largest), None).is_ok());
    }

    #[test]
    fn an_unavailable_cluster_gets_the_hint_for_the_clients_mode() {
        let plaintext = with_connect_hint(HeapError::Unavailable("no answer".into()), false).to_string();
        assert!(plaintext.starts_with("no answer. "), "{plaintext}");
        assert!(plaintext.contains("plaintext") && plaintext.contains("Security.fromDirectory"), "{plaintext}");
        let tls = with_connect_hint(HeapError::Unavailable("no answer".into()), true).to_string();
        assert!(tls.contains("Security.plaintext()"), "{tls}");
        let rejected = with_connect_hint(HeapError::Rejected("unknown token; ask".into()), false);
        assert_eq!(rejected, HeapError::Rejected("unknown token; ask".into()));
    }

    #[test]
    fn a_plaintext_clients_protocol_error_gets_the_plaintext_hint() {
        let protocol = HeapError::Rejected("h2 protocol error: http2 error".into());
        let hinted = with_connect_hint(protocol.clone(), false);
        assert!(matches!(&hinted, HeapError::Rejected(m) if m.contains("spoke plaintext")), "{hinted:?}");
        // A TLS client's protocol error is not about plaintext: unchanged.
        assert_eq!(with_connect_hint(protocol.clone(), true), protocol);
    }
}
