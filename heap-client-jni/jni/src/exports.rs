//! The exported `Java_org_sovereign_heap_Native_*` functions: one per native method of
//! `org.sovereign.heap.Native`. Each one runs its body through `entry` (panics caught, failures
//! thrown as Java exceptions) and finds its client through the handle registry.
//!
//! `unsafe_code` is allowed in this file only, for two reasons the jni crate cannot hide:
//! `#[no_mangle]` (the JVM finds native methods by their exported symbol names), and
//! `get_string_unchecked` for `String` parameters, which skips a class lookup per call.
#![allow(unsafe_code)]
// The argument lists are the Java native method signatures plus JNI's (env, class) pair.
#![allow(clippy::too_many_arguments)]

use std::panic::catch_unwind;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;

use jni::objects::JByteArray;
use jni::objects::JClass;
use jni::objects::JObject;
use jni::objects::JObjectArray;
use jni::objects::JString;
use jni::sys::jboolean;
use jni::sys::jdouble;
use jni::sys::jint;
use jni::sys::jlong;
use jni::JNIEnv;

use crate::failure::Failure;
use crate::keys::keys;
use crate::registry::Registry;
use crate::security::client_security;
use crate::security::with_connect_hint;
use crate::values::kind_code;
use crate::values::kind_from_code;
use crate::values::value_from_parts;
use crate::values::value_to_java;
use crate::values::wrong_type;
use crate::values::ValueTag;
use heap_client::BlockingHeap;
use heap_client::CommitLevel;
use heap_client::HeapError;
use heap_client::Value;
use heap_client::SESSION_TTL_MS_MAX;
use heap_client::SESSION_TTL_MS_MIN;

/// Every client opened from Java in this process.
static CLIENTS: Registry<BlockingHeap> = Registry::new();

/// Runs one native method body: a panic or a failure becomes a pending Java exception and the
/// method returns the type's default (0, false, null), which Java never sees as a result.
pub(crate) fn entry<'local, R: Default>(
    env: &mut JNIEnv<'local>,
    body: impl FnOnce(&mut JNIEnv<'local>) -> Result<R, Failure>,
) -> R {
    let failure = match catch_unwind(AssertUnwindSafe(|| body(env))) {
        Ok(Ok(result)) => return result,
        Ok(Err(failure)) => failure,
        Err(payload) => Failure::from_panic(payload.as_ref()),
    };
    failure.throw(env);
    R::default()
}

pub(crate) fn client(handle: jlong) -> Result<Arc<BlockingHeap>, Failure> {
    CLIENTS.get(handle as u64).ok_or(Failure::Closed)
}

/// A `String` argument as Rust text; `what` names it in the error for null.
pub(crate) fn string_arg(env: &mut JNIEnv, text: &JString, what: &str) -> Result<String, Failure> {
    if text.is_null() {
        return Err(Failure::Type(format!("{what} must not be null")));
    }
    // SAFETY: every String-typed parameter of the native methods is declared `String` in
    // Native.java (or is an element of a `String[]` parameter, which the JVM's array store check
    // keeps to Strings), so the reference is a java.lang.String (checked non-null).
    let java = unsafe { env.get_string_unchecked(text) }?;
    Ok(String::from(java))
}

/// The value Java passed as (tag, bits, text, bytes); see `values.rs`.
fn value_arg(env: &mut JNIEnv, tag: jint, bits: jlong, text: &JString, bytes: &JByteArray) -> Result<Value, Failure> {
    let tag = ValueTag::from_code(tag)?;
    let text = if tag == ValueTag::String { Some(string_arg(env, text, "a String value")?) } else { None };
    let bytes = if tag == ValueTag::Bytes && !bytes.is_null() { Some(env.convert_byte_array(bytes)?) } else { None };
    value_from_parts(tag, bits, text, bytes)
}

/// Java passes -1 for "no timeout".
fn timeout_arg(timeout_ms: jlong) -> Option<u64> {
    u64::try_from(timeout_ms).ok()
}

pub(crate) fn index_arg(index: jint) -> Result<u32, Failure> {
    u32::try_from(index).map_err(|_| Failure::Type(format!("list index {index} is negative")))
}

/// A typed getter's read of `key`: `extract` accepts the wanted variant, null reads as `zero`,
/// anything else is a `HeapTypeException` naming what is there.
fn typed_get<T>(
    env: &mut JNIEnv,
    handle: jlong,
    thread: jlong,
    id: jlong,
    key: &JString,
    wanted: &str,
    zero: T,
    extract: impl FnOnce(Value) -> Result<T, Value>,
) -> Result<T, Failure> {
    let key = string_arg(env, key, "key")?;
    typed_read(handle, thread, id, &key, wanted, zero, extract)
}

/// `typed_get` of the key interned as `key_id` (`Native.internKey`): no string crosses JNI.
fn typed_get_by_id<T>(
    handle: jlong,
    thread: jlong,
    id: jlong,
    key_id: jint,
    wanted: &str,
    zero: T,
    extract: impl FnOnce(Value) -> Result<T, Value>,
) -> Result<T, Failure> {
    typed_read(handle, thread, id, keys().key(key_id)?, wanted, zero, extract)
}

fn typed_read<T>(
    handle: jlong,
    thread: jlong,
    id: jlong,
    key: &str,
    wanted: &str,
    zero: T,
    extract: impl FnOnce(Value) -> Result<T, Value>,
) -> Result<T, Failure> {
    // A cached read runs under the handle registry's read lock (no I/O); a miss reads from the
    // cluster on its own reference to the client, so a slow read never holds the registry.
    let local = CLIENTS.with(handle as u64, |heap| heap.get_local(thread as u64, id as u64, key));
    let value = match local.ok_or(Failure::Closed)? {
        Some(answer) => answer?,
        None => client(handle)?.get(thread as u64, id as u64, key)?,
    };
    match value {
        Value::Null => Ok(zero),
        value => extract(value).map_err(|other| wrong_type(key, id as u64, &other, wanted)),
    }
}

fn long_of(value: Value) -> Result<jlong, Value> {
    match value {
        Value::Long(value) => Ok(value),
        other => Err(other),
    }
}

fn double_of(value: Value) -> Result<jdouble, Value> {
    match value {
        Value::Double(value) => Ok(value),
        other => Err(other),
    }
}

fn boolean_of(value: Value) -> Result<jboolean, Value> {
    match value {
        Value::Bool(value) => Ok(jboolean::from(value)),
        other => Err(other),
    }
}

#[no_mangle]
pub extern "system" fn Java_org_sovereign_heap_Native_version<'local>(
    mut env: JNIEnv<'local>,
    _class: JClass<'local>,
) -> JObject<'local> {
    entry(&mut env, |env| Ok(JObject::from(env.new_string(env!("CARGO_PKG_VERSION"))?)))
}

#[no_mangle]
pub extern "system" fn Java_org_sovereign_heap_Native_connect<'local>(
    mut env: JNIEnv<'local>,
    _class: JClass<'local>,
    endpoints: JString<'local>,
    ca_pem: JByteArray<'local>,
    token: JString<'local>,
    session_ttl_ms: jlong,
) -> jlong {
    entry(&mut env, |env| {
        let endpoints = string_arg(env, &endpoints, "endpoints")?;
        // Null means plaintext (no CA) and anonymous (no token): `Security.plaintext()`.
        let ca_pem = if ca_pem.is_null() { None } else { Some(env.convert_byte_array(&ca_pem)?) };
        let token = if token.is_null() { None } else { Some(string_arg(env, &token, "token")?) };
        let security = client_security(ca_pem, token.as_deref())?;
        // A negative ttl would wrap to a huge one; `connect_with` checks the upper bound.
        let session_ttl_ms = u64::try_from(session_ttl_ms).map_err(|_| {
            HeapError::Rejected(format!(
                "a session lease (ttl) of {session_ttl_ms} ms is negative; choose one in \
                 {SESSION_TTL_MS_MIN}..={SESSION_TTL_MS_MAX} ms"
            ))
        })?;
        let heap = BlockingHeap::connect_with(&endpoints, &security, session_ttl_ms)
            .map_err(|error| with_connect_hint(error, security.is_tls()))?;
        match CLIENTS.insert(heap) {
            Ok(handle) => Ok(handle as jlong),
            Err(heap) => {
                let _ = heap.close();
                Err(Failure::TooManyClients)
            }
        }
    })
}

#[no_mangle]
pub extern "system" fn Java_org_sovereign_heap_Native_close<'local>(
    mut env: JNIEnv<'local>,
    _class: JClass<'local>,
    handle: jlong,
) {
    entry(&mut env, |_| {
        // Only the first close finds the handle; the client is dropped when the last call still
        // running on it returns (those calls end with HeapClosedException).
        match CLIENTS.remove(handle as u64) {
            Some(heap) => Ok(heap.close()?),
            None => Ok(()),
        }
    })
}

#[no_mangle]
pub extern "system" fn Java_org_sovereign_heap_Native_cachedObjects<'local>(
    mut env: JNIEnv<'local>,
    _class: JClass<'local>,
    handle: jlong,
) -> jlong {
    entry(&mut env, |_| Ok(client(handle)?.cached_objects() as jlong))
}

#[no_mangle]
pub extern "system" fn Java_org_sovereign_heap_Native_root<'local>(
    mut env: JNIEnv<'local>,
    _class: JClass<'local>,
    handle: jlong,
    thread: jlong,
    name: JString<'local>,
    kind: jint,
) -> jlong {
    entry(&mut env, |env| {
        let heap = client(handle)?;
        let name = string_arg(env, &name, "root name")?;
        Ok(heap.root(thread as u64, &name, kind_from_code(kind)?)? as jlong)
    })
}

#[no_mangle]
pub extern "system" fn Java_org_sovereign_heap_Native_create<'local>(
    mut env: JNIEnv<'local>,
    _class: JClass<'local>,
    handle: jlong,
    thread: jlong,
    class_name: JString<'local>,
    kind: jint,
) -> jlong {
    entry(&mut env, |env| {
        let heap = client(handle)?;
        let class_name = string_arg(env, &class_name, "class name")?;
        Ok(heap.create(thread as u64, &class_name, kind_from_code(kind)?)? as jlong)
    })
}

#[no_mangle]
pub extern "system" fn Java_org_sovereign_heap_Native_pin<'local>(
    mut env: JNIEnv<'local>,
    _class: JClass<'local>,
    handle: jlong,
    id: jlong,
) {
    entry(&mut env, |_| Ok(client(handle)?.pin(id as u64)?))
}

/// Called by the Cleaner of a dropped `HeapRef`, possibly after `close`: a closed or unknown
/// handle makes it a no-op, never an exception (there is nobody to catch it).
#[no_mangle]
pub extern "system" fn Java_org_sovereign_heap_Native_unpin<'local>(
    mut env: JNIEnv<'local>,
    _class: JClass<'local>,
    handle: jlong,
    id: jlong,
) {
    entry(&mut env, |_| match CLIENTS.get(handle as u64) {
        Some(heap) => Ok(heap.unpin(id as u64)?),
        None => Ok(()),
    })
}

#[no_mangle]
pub extern "system" fn Java_org_sovereign_heap_Native_deleteRoot<'local>(
    mut env: JNIEnv<'local>,
    _class: JClass<'local>,
    handle: jlong,
    thread: jlong,
    name: JString<'local>,
) {
    entry(&mut env, |env| {
        let heap = client(handle)?;
        let name = string_arg(env, &name, "root name")?;
        Ok(heap.delete_root(thread as u64, &name)?)
    })
}

#[no_mangle]
pub extern "system" fn Java_org_sovereign_heap_Native_kind<'local>(
    mut env: JNIEnv<'local>,
    _class: JClass<'local>,
    handle: jlong,
    id: jlong,
) -> jint {
    entry(&mut env, |_| Ok(kind_code(client(handle)?.kind(id as u64)?)))
}

#[no_mangle]
pub extern "system" fn Java_org_sovereign_heap_Native_get<'local>(
    mut env: JNIEnv<'local>,
    _class: JClass<'local>,
    handle: jlong,
    thread: jlong,
    id: jlong,
    key: JString<'local>,
) -> JObject<'local> {
    entry(&mut env, |env| {
        let heap = client(handle)?;
        let key = string_arg(env, &key, "key")?;
        let value = heap.get(thread as u64, id as u64, &key)?;
        value_to_java(env, &heap, value)
    })
}

#[no_mangle]
pub extern "system" fn Java_org_sovereign_heap_Native_getLong<'local>(
    mut env: JNIEnv<'local>,
    _class: JClass<'local>,
    handle: jlong,
    thread: jlong,
    id: jlong,
    key: JString<'local>,
) -> jlong {
    entry(&mut env, |env| typed_get(env, handle, thread, id, &key, "long", 0, long_of))
}

#[no_mangle]
pub extern "system" fn Java_org_sovereign_heap_Native_getDouble<'local>(
    mut env: JNIEnv<'local>,
    _class: JClass<'local>,
    handle: jlong,
    thread: jlong,
    id: jlong,
    key: JString<'local>,
) -> jdouble {
    entry(&mut env, |env| typed_get(env, handle, thread, id, &key, "double", 0.0, double_of))
}

#[no_mangle]
pub extern "system" fn Java_org_sovereign_heap_Native_getBoolean<'local>(
    mut env: JNIEnv<'local>,
    _class: JClass<'local>,
    handle: jlong,
    thread: jlong,
    id: jlong,
    key: JString<'local>,
) -> jboolean {
    entry(&mut env, |env| typed_get(env, handle, thread, id, &key, "boolean", 0, boolean_of))
}

/// The id of `key` for the `*ById` getters, issued once per key per process; -1 when the key
/// table is full or the key too long (`keys.rs`): then read it by name.
#[no_mangle]
pub extern "system" fn Java_org_sovereign_heap_Native_internKey<'local>(
    mut env: JNIEnv<'local>,
    _class: JClass<'local>,
    key: JString<'local>,
) -> jint {
    entry(&mut env, |env| {
        let key = string_arg(env, &key, "key")?;
        Ok(keys().intern(&key).map_or(-1, |id| id as jint))
    })
}

#[no_mangle]
pub extern "system" fn Java_org_sovereign_heap_Native_getById<'local>(
    mut env: JNIEnv<'local>,
    _class: JClass<'local>,
    handle: jlong,
    thread: jlong,
    id: jlong,
    key_id: jint,
) -> JObject<'local> {
    entry(&mut env, |env| {
        let heap = client(handle)?;
        let value = heap.get(thread as u64, id as u64, keys().key(key_id)?)?;
        value_to_java(env, &heap, value)
    })
}

#[no_mangle]
pub extern "system" fn Java_org_sovereign_heap_Native_getLongById<'local>(
    mut env: JNIEnv<'local>,
    _class: JClass<'local>,
    handle: jlong,
    thread: jlong,
    id: jlong,
    key_id: jint,
) -> jlong {
    entry(&mut env, |_| typed_get_by_id(handle, thread, id, key_id, "long", 0, long_of))
}

#[no_mangle]
pub extern "system" fn Java_org_sovereign_heap_Native_getDoubleById<'local>(
    mut env: JNIEnv<'local>,
    _class: JClass<'local>,
    handle: jlong,
    thread: jlong,
    id: jlong,
    key_id: jint,
) -> jdouble {
    entry(&mut env, |_| typed_get_by_id(handle, thread, id, key_id, "double", 0.0, double_of))
}

#[no_mangle]
pub extern "system" fn Java_org_sovereign_heap_Native_getBooleanById<'local>(
    mut env: JNIEnv<'local>,
    _class: JClass<'local>,
    handle: jlong,
    thread: jlong,
    id: jlong,
    key_id: jint,
) -> jboolean {
    entry(&mut env, |_| typed_get_by_id(handle, thread, id, key_id, "boolean", 0, boolean_of))
}

#[no_mangle]
pub extern "system" fn Java_org_sovereign_heap_Native_set<'local>(
    mut env: JNIEnv<'local>,
    _class: JClass<'local>,
    handle: jlong,
    thread: jlong,
    id: jlong,
    key: JString<'local>,
    tag: jint,
    bits: jlong,
    text: JString<'local>,
    bytes: JByteArray<'local>,
) {
    entry(&mut env, |env| {
        let heap = client(handle)?;
        let key = string_arg(env, &key, "key")?;
        let value = value_arg(env, tag, bits, &text, &bytes)?;
        Ok(heap.set(thread as u64, id as u64, &key, value)?)
    })
}

#[no_mangle]
pub extern "system" fn Java_org_sovereign_heap_Native_remove<'local>(
    mut env: JNIEnv<'local>,
    _class: JClass<'local>,
    handle: jlong,
    thread: jlong,
    id: jlong,
    key: JString<'local>,
) {
    entry(&mut env, |env| {
        let heap = client(handle)?;
        let key = string_arg(env, &key, "key")?;
        Ok(heap.remove(thread as u64, id as u64, &key)?)
    })
}

#[no_mangle]
pub extern "system" fn Java_org_sovereign_heap_Native_keys<'local>(
    mut env: JNIEnv<'local>,
    _class: JClass<'local>,
    handle: jlong,
    thread: jlong,
    id: jlong,
) -> JObjectArray<'local> {
    entry(&mut env, |env| {
        let heap = client(handle)?;
        let keys = heap.keys(thread as u64, id as u64)?;
        let length = i32::try_from(keys.len())
            .map_err(|_| Failure::Type(format!("object {id} has {} keys, more than a Java array holds", keys.len())))?;
        let array = env.new_object_array(length, "java/lang/String", JObject::null())?;
        for (index, key) in keys.into_iter().enumerate() {
            // One local reference per key, freed at once: a map with many keys must not
            // overflow the native frame's local reference table.
            let element = env.new_string(key)?;
            env.set_object_array_element(&array, index as i32, &element)?;
            env.delete_local_ref(element)?;
        }
        Ok(array)
    })
}

#[no_mangle]
pub extern "system" fn Java_org_sovereign_heap_Native_listLen<'local>(
    mut env: JNIEnv<'local>,
    _class: JClass<'local>,
    handle: jlong,
    thread: jlong,
    id: jlong,
) -> jint {
    entry(&mut env, |_| {
        let length = client(handle)?.list_len(thread as u64, id as u64)?;
        i32::try_from(length)
            .map_err(|_| Failure::Type(format!("list {id} has {length} elements, more than a Java int")))
    })
}

#[no_mangle]
pub extern "system" fn Java_org_sovereign_heap_Native_listGet<'local>(
    mut env: JNIEnv<'local>,
    _class: JClass<'local>,
    handle: jlong,
    thread: jlong,
    id: jlong,
    index: jint,
) -> JObject<'local> {
    entry(&mut env, |env| {
        let heap = client(handle)?;
        let value = heap.list_get(thread as u64, id as u64, index_arg(index)?)?;
        value_to_java(env, &heap, value)
    })
}

#[no_mangle]
pub extern "system" fn Java_org_sovereign_heap_Native_listSet<'local>(
    mut env: JNIEnv<'local>,
    _class: JClass<'local>,
    handle: jlong,
    thread: jlong,
    id: jlong,
    index: jint,
    tag: jint,
    bits: jlong,
    text: JString<'local>,
    bytes: JByteArray<'local>,
) {
    entry(&mut env, |env| {
        let heap = client(handle)?;
        let value = value_arg(env, tag, bits, &text, &bytes)?;
        Ok(heap.list_set(thread as u64, id as u64, index_arg(index)?, value)?)
    })
}

#[no_mangle]
pub extern "system" fn Java_org_sovereign_heap_Native_listPush<'local>(
    mut env: JNIEnv<'local>,
    _class: JClass<'local>,
    handle: jlong,
    thread: jlong,
    id: jlong,
    tag: jint,
    bits: jlong,
    text: JString<'local>,
    bytes: JByteArray<'local>,
) {
    entry(&mut env, |env| {
        let heap = client(handle)?;
        let value = value_arg(env, tag, bits, &text, &bytes)?;
        Ok(heap.list_push(thread as u64, id as u64, value)?)
    })
}

#[no_mangle]
pub extern "system" fn Java_org_sovereign_heap_Native_listInsert<'local>(
    mut env: JNIEnv<'local>,
    _class: JClass<'local>,
    handle: jlong,
    thread: jlong,
    id: jlong,
    index: jint,
    tag: jint,
    bits: jlong,
    text: JString<'local>,
    bytes: JByteArray<'local>,
) {
    entry(&mut env, |env| {
        let heap = client(handle)?;
        let value = value_arg(env, tag, bits, &text, &bytes)?;
        Ok(heap.list_insert(thread as u64, id as u64, index_arg(index)?, value)?)
    })
}

#[no_mangle]
pub extern "system" fn Java_org_sovereign_heap_Native_listRemove<'local>(
    mut env: JNIEnv<'local>,
    _class: JClass<'local>,
    handle: jlong,
    thread: jlong,
    id: jlong,
    index: jint,
) {
    entry(&mut env, |_| Ok(client(handle)?.list_remove(thread as u64, id as u64, index_arg(index)?)?))
}

#[no_mangle]
pub extern "system" fn Java_org_sovereign_heap_Native_lock<'local>(
    mut env: JNIEnv<'local>,
    _class: JClass<'local>,
    handle: jlong,
    thread: jlong,
    name: JString<'local>,
    read: jboolean,
    timeout_ms: jlong,
) -> jboolean {
    entry(&mut env, |env| {
        let heap = client(handle)?;
        let name = string_arg(env, &name, "lock name")?;
        Ok(jboolean::from(heap.lock(thread as u64, &name, read != 0, timeout_arg(timeout_ms))?))
    })
}

/// `async_commit`: lock `name`'s critical sections commit asynchronously (`CommitLevel::Async`).
#[no_mangle]
pub extern "system" fn Java_org_sovereign_heap_Native_setAsyncCommit<'local>(
    mut env: JNIEnv<'local>,
    _class: JClass<'local>,
    handle: jlong,
    name: JString<'local>,
    async_commit: jboolean,
) {
    entry(&mut env, |env| {
        let heap = client(handle)?;
        let name = string_arg(env, &name, "lock name")?;
        let level = if async_commit != 0 { CommitLevel::Async } else { CommitLevel::Majority };
        Ok(heap.set_commit_level(&name, level)?)
    })
}

/// `kept`: whether the client keeps locks named `name_prefix...` after their last local holder.
#[no_mangle]
pub extern "system" fn Java_org_sovereign_heap_Native_setLocksKept<'local>(
    mut env: JNIEnv<'local>,
    _class: JClass<'local>,
    handle: jlong,
    name_prefix: JString<'local>,
    kept: jboolean,
) {
    entry(&mut env, |env| {
        let heap = client(handle)?;
        let name_prefix = string_arg(env, &name_prefix, "lock-name prefix")?;
        Ok(heap.set_locks_kept(&name_prefix, kept != 0)?)
    })
}

#[no_mangle]
pub extern "system" fn Java_org_sovereign_heap_Native_unlock<'local>(
    mut env: JNIEnv<'local>,
    _class: JClass<'local>,
    handle: jlong,
    thread: jlong,
    name: JString<'local>,
) {
    entry(&mut env, |env| {
        let heap = client(handle)?;
        let name = string_arg(env, &name, "lock name")?;
        Ok(heap.unlock(thread as u64, &name)?)
    })
}

#[no_mangle]
pub extern "system" fn Java_org_sovereign_heap_Native_await<'local>(
    mut env: JNIEnv<'local>,
    _class: JClass<'local>,
    handle: jlong,
    thread: jlong,
    name: JString<'local>,
    timeout_ms: jlong,
) -> jboolean {
    entry(&mut env, |env| {
        let heap = client(handle)?;
        let name = string_arg(env, &name, "lock name")?;
        Ok(jboolean::from(heap.wait(thread as u64, &name, timeout_arg(timeout_ms))?))
    })
}

#[no_mangle]
pub extern "system" fn Java_org_sovereign_heap_Native_signal<'local>(
    mut env: JNIEnv<'local>,
    _class: JClass<'local>,
    handle: jlong,
    thread: jlong,
    name: JString<'local>,
    all: jboolean,
) {
    entry(&mut env, |env| {
        let heap = client(handle)?;
        let name = string_arg(env, &name, "lock name")?;
        Ok(heap.notify(thread as u64, &name, all != 0)?)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn negative_timeouts_mean_none() {
        assert_eq!(timeout_arg(-1), None);
        assert_eq!(timeout_arg(0), Some(0));
        assert_eq!(timeout_arg(1_500), Some(1_500));
    }

    #[test]
    fn negative_indexes_are_refused() {
        assert_eq!(index_arg(3).expect("valid"), 3);
        assert!(matches!(index_arg(-1), Err(Failure::Type(_))));
    }

    #[test]
    fn a_closed_or_unknown_handle_is_a_closed_failure() {
        assert!(matches!(client(0), Err(Failure::Closed)));
        assert!(matches!(client(-5), Err(Failure::Closed)));
    }
}
