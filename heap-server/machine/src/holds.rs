//! Session holds: which session holds which object (persisted, one image key each), with the
//! derived count per session and the set of ended sessions whose holds are still to be
//! dropped. A session's holds outlive it until `Command::Collect` drops them in bounded
//! batches, so ending a session that holds a million objects is not one huge entry; until
//! then those objects stay (holding longer is always safe).

use std::collections::{BTreeMap, BTreeSet};

use crate::command::SessionId;
use crate::value::ObjectId;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Holds {
    /// `(session, object)` for every hold; persisted as `h/` + session + object.
    pairs: BTreeSet<(SessionId, ObjectId)>,
    /// Holds per session; derived.
    per_session: BTreeMap<SessionId, u64>,
    /// Sessions that ended while holding objects; derived (a session with holds and no
    /// session header).
    ended: BTreeSet<SessionId>,
}

impl Holds {
    pub fn contains(&self, session: SessionId, id: ObjectId) -> bool {
        self.pairs.contains(&(session, id))
    }

    pub fn count_of(&self, session: SessionId) -> u64 {
        self.per_session.get(&session).copied().unwrap_or(0)
    }

    pub fn len(&self) -> u64 {
        self.pairs.len() as u64
    }

    /// Every hold, in `(session, object)` order.
    pub fn pairs(&self) -> impl Iterator<Item = (SessionId, ObjectId)> + '_ {
        self.pairs.iter().copied()
    }

    /// Holds of sessions that have ended and are not dropped yet.
    pub fn ended_count(&self) -> u64 {
        self.ended.iter().map(|session| self.count_of(*session)).sum()
    }

    /// Adds a hold; false if it was there already. `session_exists` marks holds loaded before
    /// (or without) their session as ended until the session loads.
    pub fn insert(&mut self, session: SessionId, id: ObjectId, session_exists: bool) -> bool {
        if !self.pairs.insert((session, id)) {
            return false;
        }
        *self.per_session.entry(session).or_insert(0) += 1;
        if !session_exists {
            self.ended.insert(session);
        }
        true
    }

    /// Removes a hold; false if there was none.
    pub fn remove(&mut self, session: SessionId, id: ObjectId) -> bool {
        if !self.pairs.remove(&(session, id)) {
            return false;
        }
        let count = self.per_session.get_mut(&session).expect("every hold's session is counted");
        *count -= 1;
        if *count == 0 {
            self.per_session.remove(&session);
            self.ended.remove(&session);
        }
        true
    }

    /// The session exists (it was loaded): its holds are live.
    pub fn session_loaded(&mut self, session: SessionId) {
        self.ended.remove(&session);
    }

    /// The session ended: its holds wait to be dropped by `Command::Collect`.
    pub fn session_ended(&mut self, session: SessionId) {
        if self.per_session.contains_key(&session) {
            self.ended.insert(session);
        }
    }

    /// Up to `max` holds of ended sessions, oldest session first.
    pub fn ended_holds(&self, max: u64) -> Vec<(SessionId, ObjectId)> {
        let mut found = Vec::new();
        for session in &self.ended {
            let range = self.pairs.range((*session, ObjectId::MIN)..=(*session, ObjectId::MAX));
            for pair in range {
                if found.len() as u64 >= max {
                    return found;
                }
                found.push(*pair);
            }
        }
        found
    }

    /// Checks the derived parts against `pairs` and the open sessions.
    pub fn validate(&self, is_open: impl Fn(SessionId) -> bool) -> Result<(), String> {
        let mut per_session: BTreeMap<SessionId, u64> = BTreeMap::new();
        for (session, _) in &self.pairs {
            *per_session.entry(*session).or_insert(0) += 1;
        }
        if per_session != self.per_session {
            return Err("the per-session hold counts differ from the holds".to_string());
        }
        let ended: BTreeSet<SessionId> = per_session.keys().copied().filter(|session| !is_open(*session)).collect();
        if ended != self.ended {
            return Err(format!("ended sessions with holds are {ended:?}, but {:?} are recorded", self.ended));
        }
        Ok(())
    }
}
