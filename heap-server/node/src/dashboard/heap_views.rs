//! `GET /api/locks`, `/api/sessions` and `/api/roots`: the heap's locks (holders, queue,
//! condition waiters), open sessions and roots as this node has applied them, each list cut to a
//! named bound with the rest counted.

use std::collections::BTreeMap;

use heap_machine::Heap;
use heap_machine::HolderInfo;
use heap_machine::LockInfo;
use heap_machine::LockMode;
use heap_machine::WaiterInfo;
use serde::Serialize;

use super::text::id_text;
use super::text::Text;

/// Locks listed; the heap allows `LOCKS_MAX` (1,000,000), more than a page can show.
pub const LOCKS_LISTED_MAX: usize = 1_000;
/// Holders, queued waiters and condition waiters listed per lock, each (the heap allows 10,000).
pub const LOCK_PARTIES_LISTED_MAX: usize = 100;
/// Sessions listed; the heap allows `SESSIONS_MAX` (100,000).
pub const SESSIONS_LISTED_MAX: usize = 1_000;
/// Roots listed, in name order.
pub const ROOTS_LISTED_MAX: usize = 1_000;

/// A list cut to a bound: the first items and how many more there are.
#[derive(Debug, Serialize)]
pub struct Listed<T> {
    pub items: Vec<T>,
    pub omitted: usize,
}

impl<T> Listed<T> {
    fn first<S>(all: Vec<S>, max: usize, view: impl FnMut(S) -> T) -> Self {
        let omitted = all.len().saturating_sub(max);
        Listed { items: all.into_iter().take(max).map(view).collect(), omitted }
    }
}

fn mode_name(mode: LockMode) -> &'static str {
    match mode {
        LockMode::Read => "read",
        LockMode::Write => "write",
    }
}

/// A holder or waiter: its session (with the client name the session was opened with) and thread.
#[derive(Debug, Serialize)]
pub struct PartyView {
    pub session_id: String,
    /// `None` if the session is not open (cannot happen in a valid heap; shown, not hidden).
    pub client: Option<Text>,
    pub thread: u64,
    pub mode: &'static str,
    /// Holders: the fencing token, as a string (it uses all 64 bits).
    pub token: Option<String>,
    /// Holders: reentrant holds.
    pub count: Option<u64>,
    /// Waiters: ms until the wait times out, by this node's clock; `None` waits without limit.
    pub deadline_in_ms: Option<u64>,
}

#[derive(Debug, Serialize)]
pub struct LockView {
    pub name: Text,
    /// "read", "write", or `None` when only condition waiters are left.
    pub mode: Option<&'static str>,
    pub holders: Listed<PartyView>,
    pub waiters: Listed<PartyView>,
    pub condition_waiters: Listed<PartyView>,
}

/// Session id -> client name, to name each lock's parties.
type Clients = BTreeMap<u64, String>;

fn holder_view(holder: HolderInfo, clients: &Clients) -> PartyView {
    PartyView {
        session_id: id_text(holder.session_id),
        client: clients.get(&holder.session_id).map(|client| Text::cut(client)),
        thread: holder.thread,
        mode: mode_name(holder.mode),
        token: Some(id_text(holder.token)),
        count: Some(holder.count),
        deadline_in_ms: None,
    }
}

fn waiter_view(waiter: WaiterInfo, clients: &Clients, now_ms: u64) -> PartyView {
    PartyView {
        session_id: id_text(waiter.session_id),
        client: clients.get(&waiter.session_id).map(|client| Text::cut(client)),
        thread: waiter.thread,
        mode: mode_name(waiter.mode),
        token: None,
        count: None,
        deadline_in_ms: waiter.deadline_ms.map(|deadline| deadline.saturating_sub(now_ms)),
    }
}

fn lock_view(lock: LockInfo, clients: &Clients, now_ms: u64) -> LockView {
    LockView {
        name: Text::cut(&lock.name),
        mode: lock.mode.map(mode_name),
        holders: Listed::first(lock.holders, LOCK_PARTIES_LISTED_MAX, |h| holder_view(h, clients)),
        waiters: Listed::first(lock.waiters, LOCK_PARTIES_LISTED_MAX, |w| waiter_view(w, clients, now_ms)),
        condition_waiters: Listed::first(lock.condition_waiters, LOCK_PARTIES_LISTED_MAX, |w| {
            waiter_view(w, clients, now_ms)
        }),
    }
}

/// The first `LOCKS_LISTED_MAX` locks by name. `now_ms` is this node's wall clock (deadlines are
/// in the leaders' clocks, as session expiry is).
pub fn locks(heap: &Heap, now_ms: u64) -> Listed<LockView> {
    let clients: Clients = heap.sessions().into_iter().map(|session| (session.id, session.client)).collect();
    Listed::first(heap.locks(), LOCKS_LISTED_MAX, |lock| lock_view(lock, &clients, now_ms))
}

#[derive(Debug, Serialize)]
pub struct SessionView {
    pub id: String,
    pub client: Text,
    /// The credential that opened the session.
    pub owner: Text,
    pub ttl_ms: u64,
    /// Until the lease runs out unless kept alive, by this node's clock.
    pub expires_in_ms: u64,
}

/// The first `SESSIONS_LISTED_MAX` open sessions by id.
pub fn sessions(heap: &Heap, now_ms: u64) -> Listed<SessionView> {
    Listed::first(heap.sessions(), SESSIONS_LISTED_MAX, |session| SessionView {
        id: id_text(session.id),
        client: Text::cut(&session.client),
        owner: Text::cut(&session.owner),
        ttl_ms: session.ttl_ms,
        expires_in_ms: session.expires_at_ms.saturating_sub(now_ms),
    })
}

#[derive(Debug, Serialize)]
pub struct RootView {
    pub name: Text,
    pub id: String,
    /// The bound object's class (`None` cannot happen in a valid heap).
    pub class: Option<Text>,
}

/// The first `ROOTS_LISTED_MAX` roots by name.
pub fn roots(heap: &Heap) -> Listed<RootView> {
    Listed::first(heap.roots(), ROOTS_LISTED_MAX, |(name, id)| RootView {
        name: Text::cut(&name),
        id: id_text(id),
        class: heap.get(id).map(|object| Text::cut(&object.class)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A list past its bound keeps the first items in order and counts the rest.
    #[test]
    fn listed_cuts_and_counts() {
        let listed = Listed::first((0..10).collect(), 4, |n: i32| n * 2);
        assert_eq!(listed.items, vec![0, 2, 4, 6]);
        assert_eq!(listed.omitted, 6);
        let short = Listed::first(vec![1], 4, |n: i32| n);
        assert_eq!((short.items.len(), short.omitted), (1, 0));
    }

    /// A lock's holder and waiters are named by their sessions' clients; deadlines count down
    /// from `now_ms` and never go negative.
    #[test]
    fn lock_parties_carry_their_client_names() {
        let clients: Clients = [(7, "billing".to_string())].into_iter().collect();
        let holder = HolderInfo { session_id: 7, thread: 1, mode: LockMode::Write, token: u64::MAX, count: 2 };
        let waiter = WaiterInfo {
            session_id: 8,
            thread: 3,
            mode: LockMode::Write,
            sequence: 4,
            deadline_ms: Some(900),
            notified: None,
        };
        let lock = LockInfo {
            name: "orders".to_string(),
            mode: Some(LockMode::Write),
            holders: vec![holder],
            waiters: vec![waiter.clone()],
            condition_waiters: vec![],
        };
        let view = lock_view(lock, &clients, 1_000);
        let holder = &view.holders.items[0];
        assert_eq!(holder.client.as_ref().map(|c| c.text.as_str()), Some("billing"));
        assert_eq!(holder.token.as_deref(), Some(u64::MAX.to_string().as_str()));
        let queued = &view.waiters.items[0];
        assert!(queued.client.is_none(), "session 8 is not among the clients");
        assert_eq!(queued.deadline_in_ms, Some(0), "a passed deadline shows 0, not a wrapped number");
        assert_eq!(waiter_view(waiter, &clients, 100).deadline_in_ms, Some(800));
    }
}
