//! The fencing token format, in one place: a token is `log_index * TOKENS_PER_LOG_INDEX +
//! ordinal`, the ordinal counting the grants of one lock earlier in the same log entry. So a
//! lock's tokens increase with every grant, and a token tells which entry granted it (clients
//! read at least that far before trusting what the lock guards).

use crate::limits::TOKENS_PER_LOG_INDEX;

/// The fencing token of the grant numbered `ordinal` (from 0) of one lock in the entry at
/// `log_index`.
///
/// # Panics
/// If `ordinal >= TOKENS_PER_LOG_INDEX` (`WAITERS_PER_LOCK_MAX` keeps the grants of one entry
/// below it) or the token does not fit in 64 bits (log indexes stay below 2^48).
pub fn fencing_token(log_index: u64, ordinal: u64) -> u64 {
    assert!(ordinal < TOKENS_PER_LOG_INDEX, "grant ordinal {ordinal} is not below {TOKENS_PER_LOG_INDEX}");
    let first = log_index
        .checked_mul(TOKENS_PER_LOG_INDEX)
        .expect("log indexes stay below 2^48, so fencing tokens fit in 64 bits");
    first + ordinal
}

/// The log index of the entry that granted `token`.
pub fn token_log_index(token: u64) -> u64 {
    token / TOKENS_PER_LOG_INDEX
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_names_the_entry_that_granted_it() {
        assert_eq!(fencing_token(3, 0), 3 * TOKENS_PER_LOG_INDEX);
        assert_eq!(fencing_token(3, 2), 3 * TOKENS_PER_LOG_INDEX + 2);
        assert_eq!(token_log_index(fencing_token(3, TOKENS_PER_LOG_INDEX - 1)), 3);
        assert_eq!(token_log_index(fencing_token(4, 0)), 4);
        assert!(fencing_token(3, TOKENS_PER_LOG_INDEX - 1) < fencing_token(4, 0));
    }

    #[test]
    #[should_panic(expected = "grant ordinal")]
    fn an_ordinal_past_the_entry_is_refused() {
        fencing_token(3, TOKENS_PER_LOG_INDEX);
    }
}
