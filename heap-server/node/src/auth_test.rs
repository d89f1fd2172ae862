//! Tests of `auth`: token files good and bad, authentication of request headers, role checks.

use std::io::Write;

use sha2::{Digest, Sha256};
use tonic::metadata::{MetadataMap, MetadataValue};
use tonic::Code;

use super::*;

const ADMIN_TOKEN: &str = "0a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f9";
const APP_TOKEN: &str = "ffeeddccbbaa99887766554433221100ffeeddccbbaa99887766554433221100";
const READER_TOKEN: &str = "1111111111111111111111111111111111111111111111111111111111111111";
const UNKNOWN_TOKEN: &str = "2222222222222222222222222222222222222222222222222222222222222222";

fn sha256_hex(text: &str) -> String {
    Sha256::digest(text.as_bytes()).iter().map(|byte| format!("{byte:02x}")).collect()
}

fn entry(name: &str, role: &str, sha256: &str) -> String {
    format!("[[token]]\nname = \"{name}\"\nrole = \"{role}\"\nsha256 = \"{sha256}\"\n\n")
}

fn good_file() -> String {
    entry("admin", "admin", &sha256_hex(ADMIN_TOKEN))
        + &entry("app", "write", &sha256_hex(APP_TOKEN))
        + &entry("dash.board_1", "read", &sha256_hex(READER_TOKEN).to_uppercase())
}

fn parse_error(text: &str) -> AuthError {
    match TokenTable::parse(text, "test.toml") {
        Ok(table) => panic!("expected an error, parsed {table:?}"),
        Err(error) => error,
    }
}

fn request_with(header: Option<&str>) -> MetadataMap {
    let mut metadata = MetadataMap::new();
    if let Some(value) = header {
        metadata.insert(TOKEN_HEADER, MetadataValue::try_from(value).expect("test headers are ASCII"));
    }
    metadata
}

fn tokens() -> Authenticator {
    Authenticator::Tokens(TokenTable::parse(&good_file(), "test.toml").expect("the good file parses"))
}

#[test]
fn sha256_matches_the_known_vector() {
    assert_eq!(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

#[test]
fn roles_order_print_and_parse() {
    assert!(Role::Read < Role::Write);
    assert!(Role::Write < Role::Admin);
    for role in Role::ALL {
        assert_eq!(role.to_string().parse::<Role>(), Ok(role));
    }
    assert_eq!(Role::Admin.to_string(), "admin");
    assert!("Admin".parse::<Role>().is_err());
    assert!("root".parse::<Role>().is_err());
}

#[test]
fn a_good_file_parses_and_tokens_are_found_by_digest() {
    let table = TokenTable::parse(&good_file(), "test.toml").expect("the good file parses");
    assert_eq!(table.len(), 3);
    assert!(!table.is_empty());
    assert_eq!(table.lookup(ADMIN_TOKEN), Some(&Credential { name: "admin".into(), role: Role::Admin }));
    assert_eq!(table.lookup(APP_TOKEN), Some(&Credential { name: "app".into(), role: Role::Write }));
    assert_eq!(table.lookup(READER_TOKEN).map(|credential| credential.role), Some(Role::Read));
    assert!(table.lookup(ADMIN_TOKEN).is_some_and(Credential::is_admin));
    assert!(!table.lookup(APP_TOKEN).is_some_and(Credential::is_admin));
    assert_eq!(table.lookup(UNKNOWN_TOKEN), None);
    // The digest written in the file is not itself a token.
    assert_eq!(table.lookup(&sha256_hex(ADMIN_TOKEN)), None);
    assert_eq!(table.lookup(""), None);
}

#[test]
fn load_reads_a_file_and_names_it_in_errors() {
    let directory = tempfile::tempdir().expect("temp dir");
    let path = directory.path().join("tokens.toml");
    std::fs::write(&path, good_file()).expect("write token file");
    assert_eq!(TokenTable::load(&path).expect("the good file loads").len(), 3);

    let missing = directory.path().join("missing.toml");
    let error = TokenTable::load(&missing).expect_err("a missing file is refused");
    assert!(matches!(error, AuthError::Unreadable { .. }), "{error}");
    assert!(error.to_string().contains("missing.toml"), "{error}");

    let big = directory.path().join("big.toml");
    let mut file = std::fs::File::create(&big).expect("create big file");
    let padding = vec![b'#'; 4096];
    for _ in 0..=(TOKEN_FILE_BYTES_MAX / 4096) {
        file.write_all(&padding).expect("write big file");
    }
    drop(file);
    assert!(matches!(TokenTable::load(&big), Err(AuthError::TooBig { .. })));

    let binary = directory.path().join("binary.toml");
    std::fs::write(&binary, [0xff, 0xfe, 0x00]).expect("write binary file");
    assert!(matches!(TokenTable::load(&binary), Err(AuthError::NotText { .. })));
}

/// Whether an error is the one a bad file should give.
type IsExpected = fn(&AuthError) -> bool;

#[test]
fn each_bad_file_gives_its_error() {
    let digest = sha256_hex(ADMIN_TOKEN);
    let other = sha256_hex(APP_TOKEN);
    let cases: Vec<(String, IsExpected)> = vec![
        ("not toml [[".into(), |e| matches!(e, AuthError::Toml { .. })),
        (entry("a", "admin", &digest) + "colour = \"red\"\n", |e| matches!(e, AuthError::Toml { .. })),
        ("[[token]]\nname = \"a\"\nrole = \"admin\"\n".into(), |e| matches!(e, AuthError::Toml { .. })),
        ("[[tokens]]\nname = \"a\"\n".into(), |e| matches!(e, AuthError::Toml { .. })),
        (entry("a", "root", &digest), |e| matches!(e, AuthError::Role { entry: 1, .. })),
        (entry("a", "admin", &digest[1..]), |e| matches!(e, AuthError::Digest { entry: 1, .. })),
        (entry("a", "admin", &format!("{}g", &digest[1..])), |e| matches!(e, AuthError::Digest { .. })),
        (entry("a", "admin", &format!("{digest}00")), |e| matches!(e, AuthError::Digest { .. })),
        (entry("", "admin", &digest), |e| matches!(e, AuthError::Name { entry: 1, .. })),
        (entry("has space", "admin", &digest), |e| matches!(e, AuthError::Name { .. })),
        (entry("caf\u{e9}", "admin", &digest), |e| matches!(e, AuthError::Name { .. })),
        (entry(ANONYMOUS_NAME, "write", &digest), |e| matches!(e, AuthError::Name { .. })),
        (entry(&"n".repeat(CREDENTIAL_NAME_BYTES_MAX + 1), "admin", &digest), |e| matches!(e, AuthError::Name { .. })),
        (entry("a", "admin", &digest) + &entry("a", "read", &other), |e| {
            matches!(e, AuthError::DuplicateName { entry: 2, first_entry: 1, .. })
        }),
        (entry("a", "admin", &digest) + &entry("b", "read", &digest.to_uppercase()), |e| {
            matches!(e, AuthError::DuplicateDigest { entry: 2, first_entry: 1, .. })
        }),
        (String::new(), |e| matches!(e, AuthError::Empty { .. })),
        ("# only a comment\n".into(), |e| matches!(e, AuthError::Empty { .. })),
    ];
    for (text, expected) in cases {
        let error = parse_error(&text);
        assert!(expected(&error), "file {text:?} gave {error:?}");
        let message = error.to_string();
        assert!(message.contains("test.toml"), "the message names the file: {message}");
    }
}

#[test]
fn the_longest_name_is_accepted() {
    let name = "n".repeat(CREDENTIAL_NAME_BYTES_MAX);
    let table = TokenTable::parse(&entry(&name, "read", &sha256_hex(READER_TOKEN)), "test.toml").expect("parses");
    assert_eq!(table.lookup(READER_TOKEN).map(|credential| credential.name.as_str()), Some(name.as_str()));
}

#[test]
fn too_many_entries_are_refused() {
    let entries = |count: usize| -> String {
        (0..count).map(|index| entry(&format!("client{index}"), "read", &sha256_hex(&index.to_string()))).collect()
    };
    assert_eq!(TokenTable::parse(&entries(TOKENS_MAX), "test.toml").expect("the most entries parse").len(), TOKENS_MAX);
    let error = parse_error(&entries(TOKENS_MAX + 1));
    assert!(matches!(error, AuthError::TooMany { count, .. } if count == TOKENS_MAX + 1), "{error:?}");
}

#[test]
fn authenticate_accepts_a_known_token() {
    let credential = tokens().authenticate(&request_with(Some(&format!("Bearer {APP_TOKEN}")))).expect("accepted");
    assert_eq!(credential, Credential { name: "app".into(), role: Role::Write });
    let credential = tokens().authenticate(&request_with(Some(&format!("bearer {ADMIN_TOKEN}")))).expect("accepted");
    assert_eq!(credential.role, Role::Admin);
}

#[test]
fn authenticate_refuses_bad_headers_without_echoing_them() {
    let cases = [
        Some(format!("Bearer {UNKNOWN_TOKEN}")),
        Some(UNKNOWN_TOKEN.to_owned()),
        Some(format!("Basic {UNKNOWN_TOKEN}")),
        Some(format!("Bearer{UNKNOWN_TOKEN}")),
        Some("Bearer ".to_owned()),
        None,
    ];
    for header in cases {
        let status = tokens().authenticate(&request_with(header.as_deref())).expect_err("refused");
        assert_eq!(status.code(), Code::Unauthenticated, "{header:?}: {status:?}");
        assert!(!status.message().contains(UNKNOWN_TOKEN), "the token leaked: {}", status.message());
        assert!(!status.message().contains(&UNKNOWN_TOKEN[..16]), "part of the token leaked: {}", status.message());
    }
    let status = tokens().authenticate(&request_with(None)).expect_err("refused");
    assert!(status.message().starts_with("no token"), "{}", status.message());
    assert!(status.message().contains(TOKEN_ENV), "{}", status.message());
}

#[test]
fn authenticate_refuses_non_ascii_and_repeated_headers() {
    let mut metadata = MetadataMap::new();
    let opaque = MetadataValue::try_from(&b"Bearer \x80abc"[..]).expect("opaque bytes are a valid header value");
    metadata.insert(TOKEN_HEADER, opaque);
    let status = tokens().authenticate(&metadata).expect_err("refused");
    assert_eq!(status.code(), Code::Unauthenticated);
    assert!(status.message().contains("not ASCII"), "{}", status.message());

    let mut metadata = request_with(Some(&format!("Bearer {APP_TOKEN}")));
    metadata.append(TOKEN_HEADER, MetadataValue::try_from(format!("Bearer {ADMIN_TOKEN}")).expect("ascii"));
    let status = tokens().authenticate(&metadata).expect_err("refused");
    assert_eq!(status.code(), Code::Unauthenticated);
    assert!(!status.message().contains(ADMIN_TOKEN), "{}", status.message());
}

#[test]
fn an_open_authenticator_admits_everyone_as_anonymous_admin() {
    let anonymous = Credential { name: ANONYMOUS_NAME.into(), role: Role::Admin };
    assert_eq!(Authenticator::Open.authenticate(&request_with(None)).expect("admitted"), anonymous);
    let with_token = request_with(Some(&format!("Bearer {UNKNOWN_TOKEN}")));
    assert_eq!(Authenticator::Open.authenticate(&with_token).expect("admitted"), anonymous);
}

#[test]
fn require_checks_each_role_boundary() {
    for held in Role::ALL {
        for needed in Role::ALL {
            let credential = Credential { name: "app".into(), role: held };
            let result = require(&credential, needed, "Commit");
            assert_eq!(result.is_ok(), held >= needed, "{held} for {needed}");
            if let Err(status) = result {
                assert_eq!(status.code(), Code::PermissionDenied);
                assert_eq!(
                    status.message(),
                    format!("credential app has role {held}; Commit needs role {needed}; use a token with that role")
                );
            }
        }
    }
}

#[test]
fn no_error_message_carries_a_token() {
    // Someone pasted the token itself into the file: the message must not repeat it.
    let pasted = format!("[[token]]\nname = \"admin\"\nrole = \"admin\"\ntoken = \"{ADMIN_TOKEN}\"\n");
    let error = parse_error(&pasted);
    assert!(matches!(error, AuthError::Toml { .. }), "{error:?}");
    assert!(error.to_string().contains("line 4"), "{error}");
    assert!(!error.to_string().contains(&ADMIN_TOKEN[..16]), "{error}");

    let error = parse_error(&entry("admin", "admin", &format!("{ADMIN_TOKEN}00")));
    assert!(matches!(error, AuthError::Digest { .. }), "{error:?}");
    assert!(!error.to_string().contains(&ADMIN_TOKEN[..16]), "{error}");
}
