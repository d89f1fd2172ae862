//! Rules for class names, field names, map keys, root, lock, client and owner names, shared by
//! commands, graph queries, image loading and `validate`.

use crate::limits::NAME_LENGTH_BYTES_MAX;
use crate::reply::Rejection;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum NameKind {
    Class,
    Field,
    /// Map keys may be empty because `map.put("", v)` is legal Java; they may hold any
    /// characters because they are user data, not identifiers.
    MapKey,
    Root,
    Lock,
    /// A session's client description; may be empty because it is only shown to operators.
    Client,
    /// The credential that owns a session; never empty, since sessions answer to it.
    Owner,
}

impl NameKind {
    fn label(self) -> &'static str {
        match self {
            NameKind::Class => "class name",
            NameKind::Field => "field name",
            NameKind::MapKey => "map key",
            NameKind::Root => "root name",
            NameKind::Lock => "lock name",
            NameKind::Client => "client name",
            NameKind::Owner => "session owner (credential name)",
        }
    }

    fn empty_allowed(self) -> bool {
        matches!(self, NameKind::MapKey | NameKind::Client)
    }

    /// Class and root names show up in logs and operator tools, where control characters hide
    /// or forge text.
    fn control_allowed(self) -> bool {
        matches!(self, NameKind::Field | NameKind::MapKey)
    }
}

pub(crate) fn check_name(kind: NameKind, name: &str) -> Result<(), Rejection> {
    let invalid = |reason: String| Rejection::InvalidName { what: kind.label().to_string(), reason };
    if name.is_empty() && !kind.empty_allowed() {
        return Err(invalid("it is empty".to_string()));
    }
    let length_bytes = name.len() as u64;
    if length_bytes > NAME_LENGTH_BYTES_MAX {
        return Err(invalid(format!("it is {length_bytes} bytes long, over the {NAME_LENGTH_BYTES_MAX}-byte limit")));
    }
    if !kind.control_allowed() {
        if let Some((offset, character)) = name.char_indices().find(|(_, c)| c.is_control()) {
            return Err(invalid(format!(
                "it contains the control character U+{:04X} at byte {offset}",
                u32::from(character)
            )));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reason(kind: NameKind, name: &str) -> Option<String> {
        match check_name(kind, name) {
            Ok(()) => None,
            Err(Rejection::InvalidName { reason, .. }) => Some(reason),
            Err(other) => panic!("unexpected rejection {other:?}"),
        }
    }

    #[test]
    fn empty_names_only_for_map_keys() {
        assert_eq!(reason(NameKind::Class, ""), Some("it is empty".to_string()));
        assert!(reason(NameKind::Field, "").is_some());
        assert!(reason(NameKind::Root, "").is_some());
        assert_eq!(reason(NameKind::MapKey, ""), None);
        assert_eq!(reason(NameKind::Client, ""), None);
        assert!(reason(NameKind::Lock, "").is_some());
        assert!(reason(NameKind::Owner, "").is_some());
    }

    #[test]
    fn length_limit_is_in_bytes() {
        let longest = "é".repeat(128); // 256 bytes
        let too_long = format!("{longest}a");
        for kind in [
            NameKind::Class,
            NameKind::Field,
            NameKind::MapKey,
            NameKind::Root,
            NameKind::Lock,
            NameKind::Client,
            NameKind::Owner,
        ] {
            assert_eq!(reason(kind, &longest), None);
            assert!(reason(kind, &too_long).is_some());
        }
    }

    #[test]
    fn control_characters_only_in_fields_and_keys() {
        assert_eq!(
            reason(NameKind::Root, "a\nb"),
            Some("it contains the control character U+000A at byte 1".to_string())
        );
        assert!(reason(NameKind::Class, "\u{7f}").is_some());
        assert!(reason(NameKind::Lock, "a\rb").is_some());
        assert!(reason(NameKind::Client, "a\0").is_some());
        assert!(reason(NameKind::Owner, "app\n").is_some());
        assert_eq!(reason(NameKind::Field, "a\tb"), None);
        assert_eq!(reason(NameKind::MapKey, "\0"), None);
    }
}
