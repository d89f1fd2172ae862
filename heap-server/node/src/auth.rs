//! Who is calling and what they may do: the node's token table (`tokens.toml`: names, roles and
//! SHA-256 digests, never tokens), the check of a request's `authorization: Bearer <token>` header,
//! and the role check each gRPC method makes before it acts.
//!
//! Rules kept here, stated once:
//! - The node never holds a token, only its digest; a token is looked up by hashing it.
//! - No error message and no log line carries a token or any part of the `authorization` header.
//! - Every rejection says what the caller can do about it.

use std::collections::btree_map::Entry;
use std::collections::BTreeMap;
use std::io::Read;
use std::path::Path;

use proto::security::{ADMIN_TOKEN_FILE, DEV_SECURITY_DIR, TOKEN_ENV, TOKEN_HEADER, TOKEN_SCHEME};
use serde::Deserialize;
use sha2::{Digest, Sha256};
use tonic::metadata::MetadataMap;
use tonic::Status;

/// The credential of every caller on a node without authentication (`--insecure-plaintext`).
pub const ANONYMOUS_NAME: &str = "anonymous";
/// Entries in a token file: one per client or operator, far more than a cluster hands out.
pub const TOKENS_MAX: usize = 1024;
/// Bytes of a token file; larger files are refused. `TOKENS_MAX` entries of about 150 bytes each
/// need under 200 KiB.
pub const TOKEN_FILE_BYTES_MAX: u64 = 1 << 20;
/// Bytes of a credential name (ASCII letters, digits, `.`, `_`, `-`).
pub const CREDENTIAL_NAME_BYTES_MAX: usize = 64;
/// Bytes of a SHA-256 digest.
const DIGEST_BYTES: usize = 32;
/// Hex digits of a SHA-256 digest in a token file.
const DIGEST_HEX_DIGITS: usize = 2 * DIGEST_BYTES;

const _: () = assert!(ANONYMOUS_NAME.len() <= CREDENTIAL_NAME_BYTES_MAX);
const _: () = assert!(TOKEN_FILE_BYTES_MAX <= usize::MAX as u64);
const _: () = assert!(DIGEST_HEX_DIGITS == proto::security::TOKEN_HEX_DIGITS);

/// How to give a client a token, for the messages of rejected requests.
fn token_hint() -> String {
    format!("pass one with --token-file or {TOKEN_ENV}; `heapctl dev up` writes {DEV_SECURITY_DIR}/{ADMIN_TOKEN_FILE}")
}

pub use proto::security::Role;
pub use proto::security::UnknownRole;

/// An authenticated caller: sessions are bound to `name`, methods check `role`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Credential {
    pub name: String,
    pub role: Role,
}

impl Credential {
    pub fn is_admin(&self) -> bool {
        self.role == Role::Admin
    }

    /// The caller of a node without authentication.
    fn anonymous() -> Self {
        Credential { name: ANONYMOUS_NAME.to_owned(), role: Role::Admin }
    }
}

/// Why a token file was refused. `origin` is the file's path (or what the text came from),
/// `entry` the 1-based position of the `[[token]]` table.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error(
        "cannot read token file {origin}: {source}; check the path given with --tokens and the file's permissions"
    )]
    Unreadable { origin: String, source: std::io::Error },
    #[error(
        "token file {origin} is larger than {TOKEN_FILE_BYTES_MAX} bytes; it should hold at most \
         {TOKENS_MAX} [[token]] entries of name, role and sha256: check --tokens names the right file"
    )]
    TooBig { origin: String },
    #[error("token file {origin} is not UTF-8 text; write it as TOML like the tokens.toml `heapctl dev up` makes")]
    NotText { origin: String },
    #[error(
        "token file {origin} is not a valid token file: {message}; write one [[token]] table per token \
         with exactly the keys name, role and sha256, like the tokens.toml `heapctl dev up` makes"
    )]
    Toml { origin: String, message: String },
    #[error("token file {origin}, entry {entry} ({name:?}): {source}; fix the entry's role")]
    Role { origin: String, entry: usize, name: String, source: UnknownRole },
    #[error(
        "token file {origin}, entry {entry} ({name:?}): sha256 is not {DIGEST_HEX_DIGITS} hex digits; \
         put the SHA-256 of the token's text there (`printf %s TOKEN | sha256sum`), never the token itself"
    )]
    Digest { origin: String, entry: usize, name: String },
    #[error(
        "token file {origin}, entry {entry}: name {name:?} is not 1 to {CREDENTIAL_NAME_BYTES_MAX} bytes of \
         letters, digits, '.', '_' or '-' (and not \"anonymous\", the plaintext caller); rename it"
    )]
    Name { origin: String, entry: usize, name: String },
    #[error(
        "token file {origin}, entry {entry}: name {name:?} is already used by entry {first_entry}; \
         sessions are bound to names, so give every entry its own"
    )]
    DuplicateName { origin: String, entry: usize, name: String, first_entry: usize },
    #[error(
        "token file {origin}, entry {entry} ({name:?}): sha256 is the same as entry {first_entry} \
         ({first_name:?}), so both are one token; make a new token for one of them"
    )]
    DuplicateDigest { origin: String, entry: usize, name: String, first_entry: usize, first_name: String },
    #[error("token file {origin} has {count} entries, more than {TOKENS_MAX}; remove unused ones")]
    TooMany { origin: String, count: usize },
    #[error(
        "token file {origin} has no [[token]] entries, so no client could connect; add one \
         (`heapctl dev up` writes an example), or run a test cluster with --insecure-plaintext"
    )]
    Empty { origin: String },
}

/// `tokens.toml` as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TokenFile {
    #[serde(default)]
    token: Vec<TokenFileEntry>,
}

/// One `[[token]]` table. The role is a string here so that a bad one is reported with its entry.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TokenFileEntry {
    name: String,
    role: String,
    sha256: String,
}

/// The credentials a node accepts, keyed by the SHA-256 digest of their token.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TokenTable {
    credentials: BTreeMap<[u8; DIGEST_BYTES], Credential>,
}

impl TokenTable {
    /// Reads and checks a token file (`--tokens`).
    pub fn load(path: &Path) -> Result<Self, AuthError> {
        let origin = path.display().to_string();
        let unreadable = |source| AuthError::Unreadable { origin: origin.clone(), source };
        let file = std::fs::File::open(path).map_err(unreadable)?;
        let mut bytes = Vec::new();
        // Read one byte past the bound so a larger file (even one still growing) is seen as such.
        file.take(TOKEN_FILE_BYTES_MAX + 1).read_to_end(&mut bytes).map_err(unreadable)?;
        if bytes.len() as u64 > TOKEN_FILE_BYTES_MAX {
            return Err(AuthError::TooBig { origin });
        }
        let text = String::from_utf8(bytes).map_err(|_| AuthError::NotText { origin: origin.clone() })?;
        Self::parse(&text, &origin)
    }

    /// Checks the text of a token file; `origin` names it in errors.
    pub fn parse(text: &str, origin: &str) -> Result<Self, AuthError> {
        let origin = origin.to_owned();
        if text.len() as u64 > TOKEN_FILE_BYTES_MAX {
            return Err(AuthError::TooBig { origin });
        }
        let file: TokenFile = toml::from_str(text)
            .map_err(|error| AuthError::Toml { origin: origin.clone(), message: describe_toml_error(text, &error) })?;
        if file.token.len() > TOKENS_MAX {
            return Err(AuthError::TooMany { origin, count: file.token.len() });
        }
        if file.token.is_empty() {
            return Err(AuthError::Empty { origin });
        }
        let mut credentials = BTreeMap::new();
        // Name -> entry number of its first use, to name both entries of a duplicate.
        let mut entry_of_name: BTreeMap<String, usize> = BTreeMap::new();
        // Digest -> entry number, for the same reason.
        let mut entry_of_digest: BTreeMap<[u8; DIGEST_BYTES], usize> = BTreeMap::new();
        // Bounded by TOKENS_MAX, checked above.
        for (index, raw) in file.token.into_iter().enumerate() {
            let entry = index + 1;
            if !is_valid_name(&raw.name) {
                return Err(AuthError::Name { origin, entry, name: raw.name });
            }
            let role = match raw.role.parse::<Role>() {
                Ok(role) => role,
                Err(source) => return Err(AuthError::Role { origin, entry, name: raw.name, source }),
            };
            let Some(digest) = decode_digest(&raw.sha256) else {
                return Err(AuthError::Digest { origin, entry, name: raw.name });
            };
            if let Some(&first_entry) = entry_of_name.get(&raw.name) {
                return Err(AuthError::DuplicateName { origin, entry, name: raw.name, first_entry });
            }
            match credentials.entry(digest) {
                Entry::Occupied(occupied) => {
                    let first: &Credential = occupied.get();
                    let first_entry = entry_of_digest.get(&digest).copied().expect("every stored digest has its entry");
                    return Err(AuthError::DuplicateDigest {
                        origin,
                        entry,
                        name: raw.name,
                        first_entry,
                        first_name: first.name.clone(),
                    });
                }
                Entry::Vacant(vacant) => {
                    vacant.insert(Credential { name: raw.name.clone(), role });
                }
            }
            entry_of_name.insert(raw.name, entry);
            entry_of_digest.insert(digest, entry);
        }
        let table = TokenTable { credentials };
        assert!(!table.is_empty(), "an empty file was refused above");
        assert!(table.len() <= TOKENS_MAX, "a longer file was refused above");
        Ok(table)
    }

    /// Number of tokens accepted.
    pub fn len(&self) -> usize {
        self.credentials.len()
    }

    pub fn is_empty(&self) -> bool {
        self.credentials.is_empty()
    }

    /// The credential of `token`, found by its SHA-256 digest. The map's comparisons see only the
    /// digest, so their timing tells an attacker nothing useful about the token.
    pub fn lookup(&self, token: &str) -> Option<&Credential> {
        let digest: [u8; DIGEST_BYTES] = Sha256::digest(token.as_bytes()).into();
        self.credentials.get(&digest)
    }
}

/// Where and what the TOML error is, without the quoted line `toml` would add: a token pasted
/// into the file by mistake must not reach the node's log.
fn describe_toml_error(text: &str, error: &toml::de::Error) -> String {
    match error.span() {
        Some(span) => {
            let line = text.get(..span.start).map_or(0, |before| before.matches('\n').count()) + 1;
            format!("line {line}: {}", error.message())
        }
        None => error.message().to_owned(),
    }
}

/// 1 to `CREDENTIAL_NAME_BYTES_MAX` bytes of ASCII letters, digits, `.`, `_` and `-`, and not
/// `ANONYMOUS_NAME` (a token so named would own the sessions a plaintext run left behind).
fn is_valid_name(name: &str) -> bool {
    name != ANONYMOUS_NAME
        && (1..=CREDENTIAL_NAME_BYTES_MAX).contains(&name.len())
        && name.bytes().all(|byte| byte.is_ascii_alphanumeric() || matches!(byte, b'.' | b'_' | b'-'))
}

/// The digest written as `DIGEST_HEX_DIGITS` hex digits (either case), or None.
fn decode_digest(text: &str) -> Option<[u8; DIGEST_BYTES]> {
    if text.len() != DIGEST_HEX_DIGITS {
        return None;
    }
    let mut digest = [0u8; DIGEST_BYTES];
    for (byte, pair) in digest.iter_mut().zip(text.as_bytes().chunks_exact(2)) {
        let high = char::from(pair[0]).to_digit(16)?;
        let low = char::from(pair[1]).to_digit(16)?;
        *byte = u8::try_from(high * 16 + low).expect("two hex digits make at most 255");
    }
    Some(digest)
}

/// How the node authenticates callers: plaintext test clusters have none.
#[derive(Clone, Debug)]
pub enum Authenticator {
    Open,
    Tokens(TokenTable),
}

impl Authenticator {
    /// Open: every caller is `Credential { name: ANONYMOUS_NAME, role: Admin }`.
    /// Tokens: the caller whose token the request's `authorization: Bearer <token>` header carries;
    /// a missing or malformed header or an unknown token is `Unauthenticated`.
    pub fn authenticate(&self, metadata: &MetadataMap) -> Result<Credential, Status> {
        let table = match self {
            Authenticator::Open => return Ok(Credential::anonymous()),
            Authenticator::Tokens(table) => table,
        };
        let mut values = metadata.get_all(TOKEN_HEADER).iter();
        let Some(value) = values.next() else {
            return Err(Status::unauthenticated(format!("no token: {}", token_hint())));
        };
        if values.next().is_some() {
            return Err(Status::unauthenticated(format!(
                "the request carries more than one {TOKEN_HEADER} header; send one: `{TOKEN_SCHEME} <token>`"
            )));
        }
        // Nothing of the header's value goes into a message: it may be the token itself.
        let Ok(text) = value.to_str() else {
            return Err(Status::unauthenticated(format!(
                "the {TOKEN_HEADER} header is not ASCII text; send `{TOKEN_SCHEME} <token>` where the token \
                 is {} hex digits; {}",
                proto::security::TOKEN_HEX_DIGITS,
                token_hint()
            )));
        };
        let token = match text.split_once(' ') {
            Some((scheme, token)) if scheme.eq_ignore_ascii_case(TOKEN_SCHEME) => token.trim(),
            _ => {
                return Err(Status::unauthenticated(format!(
                    "the {TOKEN_HEADER} header must be `{TOKEN_SCHEME} <token>`; {}",
                    token_hint()
                )))
            }
        };
        if token.is_empty() {
            return Err(Status::unauthenticated(format!(
                "the {TOKEN_HEADER} header has no token after `{TOKEN_SCHEME}`; {}",
                token_hint()
            )));
        }
        match table.lookup(token) {
            Some(credential) => Ok(credential.clone()),
            None => Err(Status::unauthenticated(
                "this cluster does not know the token: use one listed in the token file the nodes \
                 were started with (--tokens), e.g. the one `heapctl dev up` wrote for this cluster",
            )),
        }
    }
}

/// `PermissionDenied` unless `credential` has at least role `needed`; `what` names the action
/// (e.g. "Commit").
pub fn require(credential: &Credential, needed: Role, what: &str) -> Result<(), Status> {
    if credential.role >= needed {
        return Ok(());
    }
    Err(Status::permission_denied(format!(
        "credential {} has role {}; {what} needs role {needed}; use a token with that role",
        credential.name, credential.role
    )))
}

#[cfg(test)]
#[path = "auth_test.rs"]
mod tests;
