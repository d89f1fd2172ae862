//! heapctl's security: `heapctl cert ca|node` (a development CA and node certificates),
//! `heapctl token new` (a credential: its digest goes into the tokens file, the token is printed
//! once), and how every client command reaches the cluster (`client_security`: `--plaintext`,
//! else what `ClientSecurity::discover` finds, overridden by `--ca` and `--token-file`).

use std::io::Read;
use std::path::Path;

use anyhow::bail;
use anyhow::Context;
use heap_client::ClientSecurity;
use heap_testkit::append_token;
use heap_testkit::check_token_name;
use heap_testkit::new_token;
use heap_testkit::read_tokens_file;
use heap_testkit::token_digest;
use heap_testkit::CertificateAuthority;
use heap_testkit::Role;
use heap_testkit::Validity;
use proto::security::node_cert_file;
use proto::security::node_key_file;
use proto::security::CA_FILE;
use proto::security::CA_KEY_FILE;
use proto::security::DEV_SECURITY_DIR;

/// Largest CA certificate file heapctl reads (a CA certificate is under 1 KiB; a bundle more).
const CA_FILE_BYTES_MAX: u64 = 64 * 1024;

/// How client commands reach the cluster, from the global flags.
#[derive(Debug, Clone, Default)]
pub struct SecurityFlags {
    /// No TLS, no token (clusters started with `--insecure-plaintext`); wins over the others.
    pub plaintext: bool,
    /// The cluster CA's certificate (PEM).
    pub ca: Option<std::path::PathBuf>,
    /// A file holding the token (it wins over `SOVEREIGN_TOKEN`: a flag says what this command
    /// means to do, a variable what a shell session does in general).
    pub token_file: Option<std::path::PathBuf>,
}

/// The client security of a command: plaintext if asked; else `ClientSecurity::discover()`
/// (SOVEREIGN_SECURITY_DIR or ./data/security, SOVEREIGN_CA, SOVEREIGN_TOKEN) with `--ca` and
/// `--token-file` replacing what it found. A token is never sent without TLS.
pub fn client_security(flags: &SecurityFlags) -> anyhow::Result<ClientSecurity> {
    if flags.plaintext {
        return Ok(ClientSecurity::plaintext());
    }
    with_flags(ClientSecurity::discover()?, flags)
}

/// `discovered` with `--ca` and `--token-file` applied; refuses a token without TLS.
fn with_flags(discovered: ClientSecurity, flags: &SecurityFlags) -> anyhow::Result<ClientSecurity> {
    let mut security = discovered;
    if let Some(ca) = &flags.ca {
        security.ca_pem = Some(read_ca(ca)?);
    }
    if let Some(token_file) = &flags.token_file {
        security.token = Some(ClientSecurity::token_from_file(token_file)?);
    }
    if security.token.is_some() && !security.is_tls() {
        bail!(
            "a token would be sent without TLS: give the cluster CA (--ca FILE or SOVEREIGN_CA), or --plaintext for a test cluster"
        );
    }
    Ok(security)
}

/// `error` with a hint when heapctl spoke plaintext without being asked to: a secured cluster
/// answers a plaintext client only with a protocol error, which says nothing about the cause.
pub fn explain_plaintext(error: anyhow::Error, flags: &SecurityFlags, security: &ClientSecurity) -> anyhow::Error {
    if flags.plaintext || security.is_tls() {
        return error;
    }
    anyhow::anyhow!(
        "{error:#} (heapctl spoke plaintext: it found no CA in --ca, SOVEREIGN_CA, SOVEREIGN_SECURITY_DIR or \
         ./{DEV_SECURITY_DIR}; for a secured cluster give --ca FILE and --token-file FILE)"
    )
}

fn read_ca(path: &Path) -> anyhow::Result<Vec<u8>> {
    let file =
        std::fs::File::open(path).with_context(|| format!("cannot open the CA certificate {}", path.display()))?;
    let mut pem = Vec::new();
    file.take(CA_FILE_BYTES_MAX + 1).read_to_end(&mut pem)?;
    if pem.len() as u64 > CA_FILE_BYTES_MAX {
        bail!("{} is larger than {CA_FILE_BYTES_MAX} bytes: is it the CA certificate (ca.pem)?", path.display());
    }
    Ok(pem)
}

/// `heapctl cert ca --dir DIR [--days D]`: a new CA in DIR (never over an existing one).
pub fn cert_ca(dir: &Path, days: u64) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    CertificateAuthority::create(days)?.write(dir)?;
    println!("CA certificate {} (give it to nodes as --tls-ca and to clients as --ca)", dir.join(CA_FILE).display());
    println!("CA key {} (mode 0600: keep it private; it issues node certificates)", dir.join(CA_KEY_FILE).display());
    Ok(())
}

/// `heapctl cert node --dir DIR --id N --host HOST [--days D] [--replace]`: node N's certificate
/// and key, issued by DIR's CA, written into DIR.
pub fn cert_node(dir: &Path, id: u64, host: &str, days: u64, replace: bool) -> anyhow::Result<()> {
    if id == 0 {
        bail!("--id must be the node's id (1 or more)");
    }
    let ca = CertificateAuthority::load(dir)?;
    ca.issue_node(id, host, Validity::days(days)?)?.write(dir, replace)?;
    println!(
        "node {id}: certificate {} and key {} (mode 0600), valid {days} days, for {}",
        dir.join(node_cert_file(id)).display(),
        dir.join(node_key_file(id)).display(),
        heap_testkit::node_subject_alt_names(id, host).join(", ")
    );
    Ok(())
}

/// `heapctl token new --name NAME --role ROLE --tokens FILE`: a new credential; prints its token
/// once.
pub fn token_new(name: &str, role: &str, tokens_file: &Path) -> anyhow::Result<()> {
    check_token_name(name)?;
    let role: Role = role.parse()?;
    // Refuse a duplicate before making a token that would be thrown away.
    if read_tokens_file(tokens_file)?.iter().any(|entry| entry.name == name) {
        bail!("a token named {name:?} is already in {}; pick another name", tokens_file.display());
    }
    let token = new_token()?;
    append_token(tokens_file, name, role, &token_digest(&token))?;
    println!("{token}");
    eprintln!(
        "credential {name:?} (role {role}) added to {} (nodes read it when they start). The token above is stored \
         nowhere (the file keeps only its SHA-256): save it now, e.g. in a file of mode 0600 for --token-file.",
        tokens_file.display()
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use heap_testkit::ClusterSecurity;
    use proto::security::ADMIN_TOKEN_FILE;

    use super::*;

    #[test]
    fn cert_ca_then_cert_node_make_a_verifiable_pair_and_never_overwrite() {
        let dir = tempfile::tempdir().unwrap();
        let ca_dir = dir.path().join("pki");
        cert_ca(&ca_dir, 30).unwrap();
        let again = cert_ca(&ca_dir, 30).unwrap_err().to_string();
        assert!(again.contains("already exists"), "{again}");
        cert_node(&ca_dir, 2, "10.1.2.3", 30, false).unwrap();
        assert!(cert_node(&ca_dir, 2, "10.1.2.3", 30, false).is_err(), "no silent replacement");
        cert_node(&ca_dir, 2, "10.1.2.3", 30, true).unwrap();
        assert!(cert_node(&ca_dir, 0, "10.1.2.3", 30, false).is_err());
        let no_ca = cert_node(dir.path(), 1, "h", 30, false).unwrap_err().to_string();
        assert!(no_ca.contains("ca.pem"), "{no_ca}");
        let ca = rustls_pem(&ca_dir.join(CA_FILE));
        let cert = rustls_pem(&ca_dir.join(node_cert_file(2)));
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap();
        heap_testkit::verify_node_certificate(&ca, &cert, 2, rustls_pki_types::UnixTime::since_unix_epoch(now))
            .unwrap();
    }

    fn rustls_pem(path: &Path) -> rustls_pki_types::CertificateDer<'static> {
        use rustls_pki_types::pem::PemObject;
        rustls_pki_types::CertificateDer::from_pem_file(path).unwrap()
    }

    #[test]
    fn token_new_adds_a_digest_once_per_name() {
        let dir = tempfile::tempdir().unwrap();
        let tokens = dir.path().join("tokens.toml");
        token_new("ops", "admin", &tokens).unwrap();
        let entries = read_tokens_file(&tokens).unwrap();
        assert_eq!(entries.len(), 1);
        assert_eq!((entries[0].name.as_str(), entries[0].role), ("ops", Role::Admin));
        assert!(token_new("ops", "read", &tokens).is_err());
        assert!(token_new("bad name", "read", &tokens).is_err());
        assert!(token_new("x", "root", &tokens).is_err());
        assert_eq!(read_tokens_file(&tokens).unwrap().len(), 1, "nothing added by refused calls");
    }

    #[test]
    fn flags_override_what_was_discovered_and_a_token_needs_tls() {
        let dir = tempfile::tempdir().unwrap();
        let security = ClusterSecurity::create(dir.path(), &[(1, "127.0.0.1:7101".into())]).unwrap();
        let app = security.token_file("app").unwrap();
        let flags = SecurityFlags { plaintext: false, ca: Some(security.ca_file()), token_file: Some(app) };
        let resolved = with_flags(ClientSecurity::plaintext(), &flags).unwrap();
        assert!(resolved.is_tls());
        assert_eq!(resolved.token.unwrap(), security.token("app").unwrap());

        let discovered = ClientSecurity::from_dir(security.dir()).unwrap();
        let nothing = with_flags(discovered.clone(), &SecurityFlags::default()).unwrap();
        assert_eq!(nothing.token, discovered.token);

        let token_only = SecurityFlags { token_file: Some(dir.path().join(ADMIN_TOKEN_FILE)), ..Default::default() };
        let error = with_flags(ClientSecurity::plaintext(), &token_only).unwrap_err().to_string();
        assert!(error.contains("without TLS"), "{error}");
        let plaintext = SecurityFlags { plaintext: true, ..token_only };
        assert!(!client_security(&plaintext).unwrap().is_tls());
    }
}
