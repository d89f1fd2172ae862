//! Client tokens and the tokens file nodes read: a token is 32 random bytes as 64 lowercase hex
//! digits, handed out once; `tokens.toml` keeps only its name, role and SHA-256 digest
//! (`[[token]]` entries, names unique, at most `TOKENS_MAX`).

use std::fmt::Write as _;
use std::path::Path;

use proto::security::TOKEN_HEX_DIGITS;
use sha2::Digest;
use sha2::Sha256;

use crate::files::read_bounded;
use crate::files::write_file;
use crate::files::Existing;
use crate::files::SECRET_FILE_MODE;
use crate::pki_error::PkiError;

/// Random bytes in a token.
pub const TOKEN_BYTES: usize = 32;
const _: () = assert!(TOKEN_BYTES * 2 == TOKEN_HEX_DIGITS);
/// Tokens one tokens file holds (the nodes' bound).
pub const TOKENS_MAX: usize = 1_024;
/// Bytes of a credential name.
pub const TOKEN_NAME_BYTES_MAX: usize = 64;
/// Hex digits of a SHA-256 digest.
pub const DIGEST_HEX_DIGITS: usize = 64;
/// Largest tokens file read: `TOKENS_MAX` entries of under 256 bytes each, with room for comments.
pub const TOKENS_FILE_BYTES_MAX: u64 = 1024 * 1024;
const _: () = assert!(TOKENS_MAX as u64 * 256 <= TOKENS_FILE_BYTES_MAX);
/// Largest token file (`<name>.token`) read.
pub const TOKEN_FILE_BYTES_MAX: u64 = 4 * 1024;
/// The tokens file's key for its list of entries.
const TOKEN_TABLE: &str = "token";
/// First lines of a tokens file heapctl creates.
const TOKENS_FILE_HEADER: &str =
    "# Sovereign client credentials: name, role and the SHA-256 digest of each token (never the\n\
     # token itself). Nodes read this file with --tokens; add entries with `heapctl token new`.\n";

pub use proto::security::Role;

fn hex(bytes: &[u8]) -> String {
    let mut text = String::with_capacity(bytes.len() * 2);
    for byte in bytes {
        write!(text, "{byte:02x}").expect("writing to a String cannot fail");
    }
    text
}

/// A new token: `TOKEN_BYTES` from the operating system's generator as lowercase hex.
pub fn new_token() -> Result<String, PkiError> {
    let mut bytes = [0u8; TOKEN_BYTES];
    getrandom::fill(&mut bytes).map_err(|e| PkiError::Random(e.to_string()))?;
    let token = hex(&bytes);
    assert_eq!(token.len(), TOKEN_HEX_DIGITS);
    Ok(token)
}

/// The SHA-256 of the token's UTF-8 text, as lowercase hex: what `tokens.toml` stores.
pub fn token_digest(token: &str) -> String {
    hex(&Sha256::digest(token.as_bytes()))
}

/// Checks a credential name: 1..=64 bytes of [A-Za-z0-9._-].
pub fn check_token_name(name: &str) -> Result<(), PkiError> {
    let allowed = |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-');
    if name.is_empty() || name.len() > TOKEN_NAME_BYTES_MAX || !name.bytes().all(allowed) {
        return Err(PkiError::TokenName(name.to_string()));
    }
    Ok(())
}

/// One entry of a tokens file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenEntry {
    pub name: String,
    pub role: Role,
    pub sha256: String,
}

/// The entries of the tokens file at `path` (none if it does not exist), checked as a node
/// checks them: names valid and unique, roles known, digests 64 lowercase hex digits.
pub fn read_tokens_file(path: &Path) -> Result<Vec<TokenEntry>, PkiError> {
    if !path.exists() {
        return Ok(Vec::new());
    }
    let text = read_bounded(path, TOKENS_FILE_BYTES_MAX)?;
    parse_tokens(&text).map_err(|reason| PkiError::BadTokensFile { path: path.display().to_string(), reason })
}

fn parse_tokens(text: &str) -> Result<Vec<TokenEntry>, String> {
    let table: toml::Table = text.parse().map_err(|e: toml::de::Error| e.message().to_string())?;
    let Some(list) = table.get(TOKEN_TABLE) else {
        return Ok(Vec::new());
    };
    let list = list.as_array().ok_or("`token` must be a list of [[token]] entries")?;
    if list.len() > TOKENS_MAX {
        return Err(format!("{} entries, more than {TOKENS_MAX}", list.len()));
    }
    let mut entries: Vec<TokenEntry> = Vec::with_capacity(list.len());
    for (index, item) in list.iter().enumerate() {
        let field = |key: &str| {
            item.get(key).and_then(|v| v.as_str()).ok_or_else(|| format!("entry {} has no string `{key}`", index + 1))
        };
        let name = field("name")?;
        check_token_name(name).map_err(|e| format!("entry {}: {e}", index + 1))?;
        let role = field("role")?.parse::<Role>().map_err(|e| format!("entry {name:?}: {e}"))?;
        let sha256 = field("sha256")?;
        let is_hex = sha256.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
        if sha256.len() != DIGEST_HEX_DIGITS || !is_hex {
            return Err(format!("entry {name:?}: sha256 must be {DIGEST_HEX_DIGITS} lowercase hex digits"));
        }
        if entries.iter().any(|e| e.name == name) {
            return Err(format!("the name {name:?} appears twice"));
        }
        entries.push(TokenEntry { name: name.to_string(), role, sha256: sha256.to_string() });
    }
    Ok(entries)
}

/// Adds an entry (name, role, digest of a token) to the tokens file at `path`, creating it (mode
/// 0600) if needed; refuses a name already there and a full file. The file is rewritten whole.
pub fn append_token(path: &Path, name: &str, role: Role, sha256: &str) -> Result<(), PkiError> {
    check_token_name(name)?;
    assert_eq!(sha256.len(), DIGEST_HEX_DIGITS, "append_token takes a digest from token_digest");
    let entries = read_tokens_file(path)?;
    if entries.iter().any(|e| e.name == name) {
        return Err(PkiError::DuplicateToken { name: name.to_string(), path: path.display().to_string() });
    }
    if entries.len() >= TOKENS_MAX {
        return Err(PkiError::TooManyTokens { path: path.display().to_string(), count: entries.len() });
    }
    let mut text =
        if path.exists() { read_bounded(path, TOKENS_FILE_BYTES_MAX)? } else { TOKENS_FILE_HEADER.to_string() };
    if !text.is_empty() && !text.ends_with('\n') {
        text.push('\n');
    }
    // Names are [A-Za-z0-9._-] and digests hex, so no TOML escaping is needed.
    write!(text, "\n[[{TOKEN_TABLE}]]\nname = \"{name}\"\nrole = \"{role}\"\nsha256 = \"{sha256}\"\n")
        .expect("writing to a String cannot fail");
    let written =
        parse_tokens(&text).map_err(|reason| PkiError::BadTokensFile { path: path.display().to_string(), reason })?;
    assert_eq!(written.len(), entries.len() + 1, "the new entry parses back");
    write_file(path, text.as_bytes(), SECRET_FILE_MODE, Existing::Replace)
}

/// Writes `token` to `path` (mode 0600), never replacing a token file.
pub fn write_token_file(path: &Path, token: &str) -> Result<(), PkiError> {
    let what = "a token file is never replaced: remove it first if its credential is gone";
    write_file(path, format!("{token}\n").as_bytes(), SECRET_FILE_MODE, Existing::Refuse(what))
}

/// The token in `path` (its text, trimmed).
pub fn read_token_file(path: &Path) -> Result<String, PkiError> {
    Ok(read_bounded(path, TOKEN_FILE_BYTES_MAX)?.trim().to_string())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use std::os::unix::fs::PermissionsExt;

    use super::*;

    #[test]
    fn tokens_are_64_lowercase_hex_digits_and_differ() {
        let a = new_token().unwrap();
        let b = new_token().unwrap();
        assert_eq!(a.len(), TOKEN_HEX_DIGITS);
        assert!(a.bytes().all(|c| c.is_ascii_digit() || (b'a'..=b'f').contains(&c)), "{a}");
        assert_ne!(a, b);
    }

    #[test]
    fn the_digest_is_the_sha256_of_the_token_text() {
        // SHA-256("abc") from FIPS 180-2, appendix B.1.
        assert_eq!(token_digest("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    }

    #[test]
    fn the_tokens_file_is_toml_with_the_documented_fields() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("tokens.toml");
        let token = new_token().unwrap();
        append_token(&path, "admin", Role::Admin, &token_digest(&token)).unwrap();
        append_token(&path, "reader.1", Role::Read, &token_digest(&new_token().unwrap())).unwrap();
        let table: toml::Table = std::fs::read_to_string(&path).unwrap().parse().unwrap();
        let entries = table["token"].as_array().unwrap();
        assert_eq!(entries.len(), 2);
        let first = entries[0].as_table().unwrap();
        let keys: Vec<&str> = first.keys().map(String::as_str).collect();
        assert_eq!(keys, vec!["name", "role", "sha256"]);
        assert_eq!(first["name"].as_str(), Some("admin"));
        assert_eq!(first["role"].as_str(), Some("admin"));
        assert_eq!(first["sha256"].as_str().unwrap(), hex(&Sha256::digest(token.as_bytes())));
        assert_eq!(entries[1]["role"].as_str(), Some("read"));
        assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        assert_eq!(read_tokens_file(&path).unwrap().len(), 2);
    }

    #[test]
    fn duplicate_and_invalid_names_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("tokens.toml");
        let digest = token_digest("t");
        append_token(&path, "app", Role::Write, &digest).unwrap();
        let before = std::fs::read_to_string(&path).unwrap();
        assert!(matches!(append_token(&path, "app", Role::Read, &digest), Err(PkiError::DuplicateToken { .. })));
        assert_eq!(std::fs::read_to_string(&path).unwrap(), before, "nothing written");
        for bad in ["", "a b", "x\"y", "ü", &"n".repeat(TOKEN_NAME_BYTES_MAX + 1)] {
            assert!(matches!(append_token(&path, bad, Role::Read, &digest), Err(PkiError::TokenName(_))), "{bad:?}");
        }
        check_token_name(&"n".repeat(TOKEN_NAME_BYTES_MAX)).unwrap();
    }

    #[test]
    fn a_full_file_and_broken_entries_are_refused() {
        let mut text = String::new();
        for index in 0..TOKENS_MAX {
            text.push_str(&format!(
                "[[token]]\nname = \"n{index}\"\nrole = \"read\"\nsha256 = \"{}\"\n",
                "0".repeat(64)
            ));
        }
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("tokens.toml");
        std::fs::write(&path, &text).unwrap();
        assert!(matches!(
            append_token(&path, "one-more", Role::Read, &"0".repeat(64)),
            Err(PkiError::TooManyTokens { .. })
        ));
        for broken in [
            "[[token]]\nname = \"a\"\nrole = \"root\"\nsha256 = \"00\"\n",
            "[[token]]\nname = \"a\"\nrole = \"read\"\n",
            "token = 3\n",
            "[[token]\n",
        ] {
            std::fs::write(&path, broken).unwrap();
            assert!(matches!(read_tokens_file(&path), Err(PkiError::BadTokensFile { .. })), "{broken:?}");
        }
    }

    #[test]
    fn roles_parse_from_their_names() {
        for role in Role::ALL {
            assert_eq!(role.as_str().parse::<Role>().unwrap(), role);
        }
        assert!("root".parse::<Role>().is_err());
    }

    #[test]
    fn token_files_are_private_and_never_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("app.token");
        write_token_file(&path, "secret").unwrap();
        assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        assert_eq!(read_token_file(&path).unwrap(), "secret");
        assert!(matches!(write_token_file(&path, "other"), Err(PkiError::Exists { .. })));
        assert_eq!(read_token_file(&path).unwrap(), "secret");
    }
}
