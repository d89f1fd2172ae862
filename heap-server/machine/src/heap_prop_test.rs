//! Property tests for the state machine: determinism, snapshot round trip, closure (no dangling
//! references), atomicity, version preconditions and completeness of the emitted writes.

#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;

use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::Index;

use crate::codec::{decode_envelope, decode_reply, encode_envelope};
use crate::command::{Command, Envelope, Op, Target, Transaction};
use crate::heap::{Heap, Write};
use crate::object::ObjectKind;
use crate::reply::{Rejection, Reply};
use crate::test_support::{apply_ops, create, envelope, is_bookkeeping, without_applied};
use crate::value::{ObjectId, Value};

/// Wild ids 0..40: 0 never exists, low ids usually do, high ones often not yet.
const ID_PICK_END: u64 = 40;
const CASES: u32 = 256;

/// An object chosen when the entry is applied, so that most ops hit an object that exists and
/// has the right kind, while some hit missing objects, wrong kinds or unknown handles.
#[derive(Debug, Clone)]
enum Pick {
    /// An existing object, preferably of the kind the op needs.
    Existing(Index),
    /// An object created by this transaction (a `Target::New` or `Value::NewRef`).
    Created(Index),
    /// A raw id that may or may not exist.
    Wild(ObjectId),
}

#[derive(Debug, Clone)]
enum ValuePick {
    Plain(Value),
    Reference(Pick),
    /// A `NewRef` to a handle that may not be created at all.
    WildHandle(u32),
}

/// An op whose objects are chosen at apply time.
#[derive(Debug, Clone)]
enum OpPick {
    Create {
        /// Reuse an earlier handle of the transaction (a DuplicateHandle) instead of a new one.
        reuse: bool,
        class: String,
        kind: ObjectKind,
    },
    SetField(Pick, String, ValuePick),
    RemoveField(Pick, String),
    MapPut(Pick, String, ValuePick),
    MapRemove(Pick, String),
    ListPush(Pick, ValuePick),
    ListInsert(Pick, u32, ValuePick),
    ListSet(Pick, u32, ValuePick),
    ListRemove(Pick, u32),
    Clear(Pick),
    BindRoot(String, Pick),
    UnbindRoot(String),
}

/// An expected version relative to the object's version when the entry is applied, so that
/// preconditions are sometimes current and sometimes stale.
#[derive(Debug, Clone, Copy)]
enum VersionPick {
    Current,
    Offset(i64),
}

#[derive(Debug, Clone)]
enum Entry {
    Transaction { expect: Vec<(Pick, VersionPick)>, ops: Vec<OpPick> },
    Noop,
    Garbage(Vec<u8>),
}

/// Mostly names from `pool`, sometimes `invalid`.
fn name(pool: &'static [&'static str], invalid: &'static str) -> impl Strategy<Value = String> {
    prop_oneof![
        15 => proptest::sample::select(pool).prop_map(str::to_string),
        1 => Just(invalid.to_string()),
    ]
}

fn field() -> impl Strategy<Value = String> {
    name(&["a", "b", "c"], "")
}

fn key() -> impl Strategy<Value = String> {
    name(&["", "k", "l"], "")
}

fn root() -> impl Strategy<Value = String> {
    name(&["r1", "r2", "r3"], "bad\n")
}

fn kind() -> impl Strategy<Value = ObjectKind> {
    prop_oneof![Just(ObjectKind::Fields), Just(ObjectKind::Map), Just(ObjectKind::List)]
}

fn pick() -> impl Strategy<Value = Pick> {
    prop_oneof![
        12 => any::<Index>().prop_map(Pick::Existing),
        6 => any::<Index>().prop_map(Pick::Created),
        2 => (0..ID_PICK_END).prop_map(Pick::Wild),
    ]
}

fn value() -> impl Strategy<Value = ValuePick> {
    let plain = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::Int),
        any::<f64>().prop_map(Value::Float),
        "[a-z]{0,6}".prop_map(Value::Str),
        vec(any::<u8>(), 0..6).prop_map(Value::Bytes),
    ];
    prop_oneof![
        8 => plain.prop_map(ValuePick::Plain),
        8 => pick().prop_map(ValuePick::Reference),
        1 => (0u32..8).prop_map(ValuePick::WildHandle),
    ]
}

fn op() -> impl Strategy<Value = OpPick> {
    let index = || 0u32..3;
    prop_oneof![
        6 => (proptest::bool::weighted(0.05), name(&["C", "D"], ""), kind())
            .prop_map(|(reuse, class, kind)| OpPick::Create { reuse, class, kind }),
        4 => (pick(), field(), value()).prop_map(|(t, f, v)| OpPick::SetField(t, f, v)),
        1 => (pick(), field()).prop_map(|(t, f)| OpPick::RemoveField(t, f)),
        3 => (pick(), key(), value()).prop_map(|(t, k, v)| OpPick::MapPut(t, k, v)),
        1 => (pick(), key()).prop_map(|(t, k)| OpPick::MapRemove(t, k)),
        3 => (pick(), value()).prop_map(|(t, v)| OpPick::ListPush(t, v)),
        1 => (pick(), index(), value()).prop_map(|(t, i, v)| OpPick::ListInsert(t, i, v)),
        1 => (pick(), index(), value()).prop_map(|(t, i, v)| OpPick::ListSet(t, i, v)),
        1 => (pick(), index()).prop_map(|(t, i)| OpPick::ListRemove(t, i)),
        1 => pick().prop_map(OpPick::Clear),
        2 => (root(), pick()).prop_map(|(n, t)| OpPick::BindRoot(n, t)),
        1 => root().prop_map(OpPick::UnbindRoot),
    ]
}

fn version_pick() -> impl Strategy<Value = VersionPick> {
    prop_oneof![
        4 => Just(VersionPick::Current),
        1 => (-3i64..=3).prop_filter("stale", |d| *d != 0).prop_map(VersionPick::Offset),
    ]
}

fn entry() -> impl Strategy<Value = Entry> {
    prop_oneof![
        12 => (vec((pick(), version_pick()), 0..3), vec(op(), 1..6))
            .prop_map(|(expect, ops)| Entry::Transaction { expect, ops }),
        1 => Just(Entry::Noop),
        1 => vec(any::<u8>(), 0..24).prop_map(Entry::Garbage),
    ]
}

/// A log that starts with a transaction creating two objects of each kind, so that most
/// generated ops find an object to work on instead of all failing on an empty heap.
fn entries() -> impl Strategy<Value = Vec<Entry>> {
    let kinds = [ObjectKind::Fields, ObjectKind::Map, ObjectKind::List];
    let seed = Entry::Transaction {
        expect: Vec::new(),
        ops: kinds
            .iter()
            .chain(kinds.iter())
            .map(|kind| OpPick::Create { reuse: false, class: "Seed".to_string(), kind: *kind })
            .collect(),
    };
    vec(entry(), 0..24).prop_map(move |rest| {
        let mut entries = vec![seed.clone()];
        entries.extend(rest);
        entries
    })
}

/// Turns picks into a concrete transaction against `heap`'s current state.
struct Resolver<'h> {
    heap: &'h Heap,
    /// `(handle, kind)` of every create in the transaction, in op order.
    creates: Vec<(u32, ObjectKind)>,
    /// How many of `creates` the ops resolved so far have passed.
    creates_seen: usize,
}

impl Resolver<'_> {
    /// Existing objects then objects created so far in the transaction, of `kind` if any are.
    fn candidates(&self, kind: Option<ObjectKind>, created_only: bool) -> Vec<Target> {
        let matches = |candidate: ObjectKind| kind.is_none_or(|kind| candidate == kind);
        let collect = |check_kind: bool| {
            let existing = self
                .heap
                .objects
                .iter()
                .filter(|(_, object)| !created_only && (!check_kind || matches(object.kind())))
                .map(|(id, _)| Target::Id(id));
            let created = self.creates[..self.creates_seen]
                .iter()
                .filter(|(_, created)| !check_kind || matches(*created))
                .map(|(handle, _)| Target::New(*handle));
            existing.chain(created).collect::<Vec<_>>()
        };
        let of_kind = collect(true);
        if of_kind.is_empty() {
            collect(false)
        } else {
            of_kind
        }
    }

    fn target(&self, pick: &Pick, kind: Option<ObjectKind>) -> Target {
        let choose = |index: &Index, candidates: Vec<Target>| {
            if candidates.is_empty() {
                Target::Id(index.index(ID_PICK_END as usize) as ObjectId)
            } else {
                candidates[index.index(candidates.len())].clone()
            }
        };
        match pick {
            Pick::Wild(id) => Target::Id(*id),
            Pick::Existing(index) => choose(index, self.candidates(kind, false)),
            Pick::Created(index) => {
                let created = self.candidates(kind, true);
                if created.is_empty() {
                    choose(index, self.candidates(kind, false))
                } else {
                    choose(index, created)
                }
            }
        }
    }

    fn value(&self, pick: &ValuePick) -> Value {
        match pick {
            ValuePick::Plain(value) => value.clone(),
            ValuePick::WildHandle(handle) => Value::NewRef(*handle),
            ValuePick::Reference(Pick::Created(index)) if !self.creates.is_empty() => {
                // Any create in the transaction, before or after this op.
                Value::NewRef(self.creates[index.index(self.creates.len())].0)
            }
            ValuePick::Reference(pick) => match self.target(pick, None) {
                Target::Id(id) => Value::Ref(id),
                Target::New(handle) => Value::NewRef(handle),
            },
        }
    }

    fn op(&mut self, pick: &OpPick) -> Op {
        let fields = Some(ObjectKind::Fields);
        let map = Some(ObjectKind::Map);
        let list = Some(ObjectKind::List);
        match pick {
            OpPick::Create { class, kind, .. } => {
                let (handle, created) = self.creates[self.creates_seen];
                debug_assert_eq!(created, *kind);
                self.creates_seen += 1;
                Op::Create { handle, class: class.clone(), kind: *kind }
            }
            OpPick::SetField(t, f, v) => {
                Op::SetField { target: self.target(t, fields), field: f.clone(), value: self.value(v) }
            }
            OpPick::RemoveField(t, f) => Op::RemoveField { target: self.target(t, fields), field: f.clone() },
            OpPick::MapPut(t, k, v) => Op::MapPut { target: self.target(t, map), key: k.clone(), value: self.value(v) },
            OpPick::MapRemove(t, k) => Op::MapRemove { target: self.target(t, map), key: k.clone() },
            OpPick::ListPush(t, v) => Op::ListPush { target: self.target(t, list), value: self.value(v) },
            OpPick::ListInsert(t, i, v) => {
                Op::ListInsert { target: self.target(t, list), index: *i, value: self.value(v) }
            }
            OpPick::ListSet(t, i, v) => Op::ListSet { target: self.target(t, list), index: *i, value: self.value(v) },
            OpPick::ListRemove(t, i) => Op::ListRemove { target: self.target(t, list), index: *i },
            OpPick::Clear(t) => Op::Clear { target: self.target(t, None) },
            OpPick::BindRoot(n, t) => Op::BindRoot { name: n.clone(), target: self.target(t, None) },
            OpPick::UnbindRoot(n) => Op::UnbindRoot { name: n.clone() },
        }
    }
}

fn resolve_transaction(heap: &Heap, expect: &[(Pick, VersionPick)], ops: &[OpPick]) -> Transaction {
    let mut creates = Vec::new();
    for op in ops {
        if let OpPick::Create { reuse, kind, .. } = op {
            let handle = match creates.last() {
                Some((last, _)) if *reuse => *last,
                _ => creates.len() as u32,
            };
            creates.push((handle, *kind));
        }
    }
    let mut resolver = Resolver { heap, creates, creates_seen: 0 };
    let expect = expect
        .iter()
        .map(|(pick, version)| {
            let id = match resolver.target(pick, None) {
                Target::Id(id) => id,
                Target::New(_) => unreachable!("no creates are seen before the ops"),
            };
            let current = heap.get(id).map_or(0, |object| object.version);
            let version = match version {
                VersionPick::Current => current,
                VersionPick::Offset(offset) => current.saturating_add_signed(*offset),
            };
            (id, version)
        })
        .collect();
    let ops = ops.iter().map(|op| resolver.op(op)).collect();
    Transaction { expect, fences: Vec::new(), ops }
}

/// The model of preconditions: the first failing expectation, in list order.
fn expected_precondition_failure(heap: &Heap, expect: &[(ObjectId, u64)]) -> Option<Rejection> {
    expect.iter().find_map(|&(id, expected)| match heap.get(id) {
        None => Some(Rejection::UnknownObject { id }),
        Some(object) if object.version != expected => {
            Some(Rejection::VersionConflict { id, expected, actual: object.version })
        }
        Some(_) => None,
    })
}

/// An entry as the leader would propose it, given the heap it is applied to.
fn entry_bytes(heap: &Heap, entry: &Entry) -> Option<Vec<u8>> {
    match entry {
        Entry::Transaction { expect, ops } => Some(encode_envelope(&Envelope {
            leader_time_ms: 1,
            command: Command::Transaction(resolve_transaction(heap, expect, ops)),
        })),
        Entry::Noop => None,
        Entry::Garbage(bytes) => Some(bytes.clone()),
    }
}

/// Applies one entry through the byte interface; returns the reply (None for a no-op entry).
fn apply_entry(heap: &mut Heap, log_index: u64, bytes: &Option<Vec<u8>>, writes: &mut Vec<Write>) -> Option<Reply> {
    match bytes {
        Some(bytes) => Some(decode_reply(&heap.apply(log_index, bytes, writes)).unwrap()),
        None => {
            heap.apply_noop(log_index, writes);
            None
        }
    }
}

/// How many writes touch more than the applied index and the clock.
fn substantive_writes(writes: &[Write]) -> usize {
    writes.iter().filter(|(key, _)| !is_bookkeeping(key)).count()
}

fn load(image: &[(Vec<u8>, Vec<u8>)]) -> Heap {
    let mut heap = Heap::new();
    heap.clear();
    for (key, value) in image {
        heap.load(key, value).unwrap();
    }
    heap.validate().unwrap();
    heap
}

/// Applies `entries` to one heap and checks properties 3, 4 and 5 after every entry; returns
/// the replies and the final heap.
fn run_checked(entries: &[Entry]) -> Result<(Heap, Vec<Option<Reply>>), TestCaseError> {
    let mut heap = Heap::new();
    let mut replies = Vec::new();
    for (position, entry) in entries.iter().enumerate() {
        let log_index = position as u64 + 1;
        let before = heap.export();
        let bytes = entry_bytes(&heap, entry);
        let model = bytes.as_deref().and_then(|bytes| decode_envelope(bytes).ok()).and_then(|envelope| match envelope
            .command
        {
            Command::Transaction(transaction) => expected_precondition_failure(&heap, &transaction.expect),
            _ => None,
        });
        let mut writes = Vec::new();
        let reply = apply_entry(&mut heap, log_index, &bytes, &mut writes);
        let after = heap.export();

        // 3: the heap stays closed and valid.
        if let Err(error) = heap.validate() {
            return Err(TestCaseError::fail(format!("invalid after {entry:?}: {error}")));
        }
        prop_assert_eq!(heap.applied_index(), log_index);
        // 3: a rejection (or a no-op) changes nothing but the applied index. Only rejections:
        // garbage bytes can decode to a command that rightly changes state without committing
        // (`[0, 5, 1]` is AllocateIds of one id, which moves next_id).
        if matches!(reply, None | Some(Reply::Rejected(_))) {
            prop_assert_eq!(without_applied(&before), without_applied(&after));
            prop_assert_eq!(substantive_writes(&writes), 0);
        }
        // 4: preconditions reject exactly the stale ones.
        match (&model, &reply) {
            (Some(failure), Some(reply)) => {
                prop_assert_eq!(reply, &Reply::Rejected(failure.clone()));
            }
            (None, Some(Reply::Rejected(Rejection::VersionConflict { .. }))) => {
                return Err(TestCaseError::fail("conflict without a stale expectation"));
            }
            _ => {}
        }
        // 5: replaying the writes onto the old image gives the new image.
        let mut image: BTreeMap<Vec<u8>, Vec<u8>> = before.into_iter().collect();
        let mut keys_written = std::collections::BTreeSet::new();
        for (key, value) in writes {
            prop_assert!(keys_written.insert(key.clone()), "a key written twice");
            match value {
                Some(value) => image.insert(key, value),
                None => image.remove(&key),
            };
        }
        prop_assert_eq!(image.into_iter().collect::<Vec<_>>(), after);
        replies.push(reply);
    }
    Ok((heap, replies))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(CASES))]

    /// 1: the same entries give the same state and replies, through bytes or typed commands.
    #[test]
    fn same_log_same_state(entries in entries()) {
        let (checked, replies) = run_checked(&entries)?;
        let mut typed = Heap::new();
        for (position, entry) in entries.iter().enumerate() {
            let log_index = position as u64 + 1;
            let reply = match entry_bytes(&typed, entry) {
                Some(bytes) => match decode_envelope(&bytes) {
                    Ok(envelope) => Some(typed.apply_command(log_index, &envelope, &mut Vec::new())),
                    Err(_) => apply_entry(&mut typed, log_index, &Some(bytes), &mut Vec::new()),
                },
                None => apply_entry(&mut typed, log_index, &None, &mut Vec::new()),
            };
            prop_assert_eq!(&reply, &replies[position]);
        }
        prop_assert_eq!(typed.export(), checked.export());
    }

    /// 2: a snapshot (export, clear, load) is the same heap and behaves the same afterwards.
    #[test]
    fn snapshot_round_trip(entries in entries(), split in any::<Index>()) {
        let split = split.index(entries.len() + 1);
        let (mut original, _) = run_checked(&entries[..split])?;
        let image = original.export();
        let mut restored = load(&image);
        prop_assert_eq!(restored.export(), image);
        for (position, entry) in entries.iter().enumerate().skip(split) {
            let log_index = position as u64 + 1;
            let bytes = entry_bytes(&original, entry);
            let mut original_writes = Vec::new();
            let mut restored_writes = Vec::new();
            let original_reply = apply_entry(&mut original, log_index, &bytes, &mut original_writes);
            let restored_reply = apply_entry(&mut restored, log_index, &bytes, &mut restored_writes);
            prop_assert_eq!(original_reply, restored_reply);
            prop_assert_eq!(original_writes, restored_writes);
            prop_assert_eq!(original.export(), restored.export());
        }
    }

    /// 4: with ops that cannot fail, a transaction is rejected with VersionConflict exactly
    /// when some expected version differs from the actual one.
    #[test]
    fn preconditions_reject_exactly_the_stale(
        expect in vec((1u64..=4, version_pick()), 0..6),
        touched in vec(1u64..=4, 0..6),
    ) {
        // Objects 1..=4 with versions 1, 2, 3, 4 plus later bumps from `touched`.
        let mut heap = Heap::new();
        apply_ops(&mut heap, 1, vec![create(0, ObjectKind::Fields)]);
        for log_index in 2..=4 {
            apply_ops(&mut heap, log_index, vec![create(0, ObjectKind::Fields)]);
        }
        let mut log_index = 4;
        for id in touched {
            log_index += 1;
            let ops = vec![Op::SetField { target: Target::Id(id), field: "n".to_string(), value: Value::Int(0) }];
            apply_ops(&mut heap, log_index, ops);
        }
        let expect: Vec<(ObjectId, u64)> = expect
            .into_iter()
            .map(|(id, pick)| {
                let current = heap.get(id).unwrap().version;
                match pick {
                    VersionPick::Current => (id, current),
                    VersionPick::Offset(offset) => (id, current.saturating_add_signed(offset)),
                }
            })
            .collect();
        let stale = expect.iter().find(|(id, version)| heap.get(*id).unwrap().version != *version).copied();
        let ops = vec![Op::SetField { target: Target::Id(1), field: "m".to_string(), value: Value::Null }];
        let reply = heap.apply_command(log_index + 1, &envelope(expect, ops), &mut Vec::new());
        match stale {
            Some((id, expected)) => {
                let actual = heap.get(id).unwrap().version;
                prop_assert_eq!(reply, Reply::Rejected(Rejection::VersionConflict { id, expected, actual }));
            }
            None => prop_assert_eq!(reply, Reply::Committed { log_index: log_index + 1, created: Vec::new() }),
        }
    }

    /// Random bytes never panic; whatever does not decode changes nothing but the applied index.
    #[test]
    fn random_bytes_never_panic(
        setup in entries(),
        noise in prop_oneof![
            vec(any::<u8>(), 0..64),
            // Valid envelopes with a few bytes changed: these get deep into the decoder.
            (vec(op(), 1..4), vec((any::<Index>(), any::<u8>()), 1..4))
                .prop_map(|(ops, flips)| {
                    let transaction = resolve_transaction(&Heap::new(), &[], &ops);
                    let mut bytes = encode_envelope(&envelope(Vec::new(), transaction.ops));
                    for (at, byte) in flips {
                        let at = at.index(bytes.len());
                        bytes[at] = byte;
                    }
                    bytes
                }),
        ],
    ) {
        let (mut heap, _) = run_checked(&setup)?;
        let before = heap.export();
        let log_index = heap.applied_index() + 1;
        let mut writes = Vec::new();
        let reply = decode_reply(&heap.apply(log_index, &noise, &mut writes)).unwrap();
        prop_assert_eq!(heap.applied_index(), log_index);
        prop_assert!(heap.validate().is_ok());
        if decode_envelope(&noise).is_err() {
            let malformed = matches!(reply, Reply::Rejected(Rejection::Malformed { .. }));
            prop_assert!(malformed, "undecodable bytes gave {:?}", reply);
        }
        // The setup opens no session, so only a transaction, an OpenSession or an AllocateIds
        // changes anything: every other reply, rejections included, leaves the heap as it was.
        if !matches!(reply, Reply::Committed { .. } | Reply::SessionOpened { .. } | Reply::IdRange { .. }) {
            prop_assert_eq!(substantive_writes(&writes), 0);
            prop_assert_eq!(without_applied(&before), without_applied(&heap.export()));
        }
    }
}

/// Guards the generators: if most transactions were rejected, or some rejection never
/// happened, the properties above would say less than they seem to.
#[test]
fn generated_logs_commit_often_and_reach_every_rejection() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;

    let mut runner = TestRunner::deterministic();
    let (mut committed, mut total) = (0, 0);
    let mut rejections = std::collections::BTreeSet::new();
    for _ in 0..64 {
        let entries = entries().new_tree(&mut runner).unwrap().current();
        let (_, replies) = run_checked(&entries).unwrap();
        for reply in replies.into_iter().flatten() {
            total += 1;
            match reply {
                Reply::Committed { .. } => committed += 1,
                Reply::Rejected(rejection) => {
                    let name = format!("{rejection:?}");
                    let kind = name.split([' ', '(']).next().unwrap_or("").to_string();
                    rejections.insert(kind);
                }
                other => panic!("a transaction got {other:?}"),
            }
        }
    }
    assert!(committed * 3 >= total, "only {committed} of {total} generated entries committed");
    // LimitExceeded needs inputs far larger than these logs; the unit tests cover it.
    for kind in [
        "VersionConflict",
        "UnknownObject",
        "UnknownHandle",
        "DuplicateHandle",
        "DanglingReference",
        "WrongKind",
        "IndexOutOfRange",
        "InvalidName",
        "Malformed",
    ] {
        assert!(rejections.contains(kind), "no generated entry was rejected with {kind}");
    }
}
