//! The exported native methods that carry many values in one call (issue 10's batches): a
//! prefetch of many objects in one graph Read, a whole list or map read with the objects it
//! references, many field writes recorded at once, and the count of Read RPCs. They keep the rules
//! of `exports.rs` (the body runs through `entry`; loops free each element's local references as
//! they go, so a batch of any length fits the native frame).
//!
//! `unsafe_code` is allowed in this file only for `#[no_mangle]` (the JVM finds native methods by
//! their exported symbol names); the String reads go through `exports::string_arg`.
#![allow(unsafe_code)]
// The argument lists are the Java native method signatures plus JNI's (env, class) pair.
#![allow(clippy::too_many_arguments)]

use jni::objects::JByteArray;
use jni::objects::JClass;
use jni::objects::JIntArray;
use jni::objects::JLongArray;
use jni::objects::JObject;
use jni::objects::JObjectArray;
use jni::objects::JString;
use jni::sys::jboolean;
use jni::sys::jint;
use jni::sys::jlong;
use jni::JNIEnv;

use crate::exports::client;
use crate::exports::entry;
use crate::exports::index_arg;
use crate::exports::string_arg;
use crate::failure::Failure;
use crate::values::value_from_parts;
use crate::values::value_to_java;
use crate::values::ValueTag;
use heap_client::BlockingHeap;
use heap_client::FieldWrite;
use heap_client::Value;

/// Most ids one prefetch call takes: the client caches at most this many objects
/// (`CACHE_OBJECTS_MAX`), so prefetching more would evict what it just read.
pub const PREFETCH_IDS_MAX: usize = 100_000;

/// A count argument (a depth, an object budget) that Java passes as an int: never negative.
fn count_arg(count: jint, what: &str) -> Result<u32, Failure> {
    u32::try_from(count).map_err(|_| Failure::Type(format!("{what} {count} is negative")))
}

/// The first `length` elements of a Java `long[]` (checked to have them).
fn longs(env: &mut JNIEnv, array: &JLongArray, length: usize, what: &str) -> Result<Vec<i64>, Failure> {
    require_length(env.get_array_length(array)?, length, what)?;
    let mut values = vec![0; length];
    env.get_long_array_region(array, 0, &mut values)?;
    Ok(values)
}

/// The first `length` elements of a Java `int[]` (checked to have them).
fn ints(env: &mut JNIEnv, array: &JIntArray, length: usize, what: &str) -> Result<Vec<i32>, Failure> {
    require_length(env.get_array_length(array)?, length, what)?;
    let mut values = vec![0; length];
    env.get_int_array_region(array, 0, &mut values)?;
    Ok(values)
}

fn require_length(actual: jint, wanted: usize, what: &str) -> Result<(), Failure> {
    if usize::try_from(actual).map_or(true, |actual| actual < wanted) {
        return Err(Failure::Type(format!("{what} has {actual} elements, fewer than the {wanted} of the batch")));
    }
    Ok(())
}

/// Element `index` of a `String[]` as Rust text (its local reference freed).
fn string_element(env: &mut JNIEnv, array: &JObjectArray, index: usize, what: &str) -> Result<String, Failure> {
    let element = JString::from(env.get_object_array_element(array, index as jint)?);
    let text = string_arg(env, &element, what);
    env.delete_local_ref(element)?;
    text
}

/// Element `index` of a `byte[][]` (its local reference freed); null reads as no bytes.
fn bytes_element(env: &mut JNIEnv, array: &JObjectArray, index: usize) -> Result<Option<Vec<u8>>, Failure> {
    if array.is_null() {
        return Ok(None);
    }
    let element = JByteArray::from(env.get_object_array_element(array, index as jint)?);
    let bytes = if element.is_null() { None } else { Some(env.convert_byte_array(&element)?) };
    env.delete_local_ref(element)?;
    Ok(bytes)
}

/// A Java `Object[]` of `values` (each element's local reference freed once stored).
fn values_to_java<'local>(
    env: &mut JNIEnv<'local>,
    heap: &BlockingHeap,
    values: impl ExactSizeIterator<Item = Value>,
) -> Result<JObjectArray<'local>, Failure> {
    let length = jint::try_from(values.len())
        .map_err(|_| Failure::Type(format!("{} values are more than a Java array holds", values.len())))?;
    let array = env.new_object_array(length, "java/lang/Object", JObject::null())?;
    for (index, value) in values.enumerate() {
        let element = value_to_java(env, heap, value)?;
        env.set_object_array_element(&array, index as jint, &element)?;
        env.delete_local_ref(element)?;
    }
    Ok(array)
}

#[no_mangle]
pub extern "system" fn Java_org_sovereign_heap_Native_readRequests<'local>(
    mut env: JNIEnv<'local>,
    _class: JClass<'local>,
    handle: jlong,
) -> jlong {
    entry(&mut env, |_| Ok(i64::try_from(client(handle)?.read_requests()).unwrap_or(i64::MAX)))
}

#[no_mangle]
pub extern "system" fn Java_org_sovereign_heap_Native_prefetch<'local>(
    mut env: JNIEnv<'local>,
    _class: JClass<'local>,
    handle: jlong,
    thread: jlong,
    ids: JLongArray<'local>,
    depth: jint,
    max_objects: jint,
    walk: jboolean,
) -> jint {
    entry(&mut env, |env| {
        let heap = client(handle)?;
        let length = usize::try_from(env.get_array_length(&ids)?).unwrap_or(0);
        if length > PREFETCH_IDS_MAX {
            return Err(Failure::Type(format!(
                "{length} ids in one prefetch, more than the {PREFETCH_IDS_MAX} objects the client caches; prefetch fewer"
            )));
        }
        let ids: Vec<u64> = longs(env, &ids, length, "ids")?.into_iter().map(|id| id as u64).collect();
        let read = heap.prefetch(
            thread as u64,
            &ids,
            count_arg(depth, "depth")?,
            count_arg(max_objects, "max_objects")?,
            walk != 0,
        )?;
        Ok(jint::try_from(read).unwrap_or(jint::MAX))
    })
}

#[no_mangle]
pub extern "system" fn Java_org_sovereign_heap_Native_listValues<'local>(
    mut env: JNIEnv<'local>,
    _class: JClass<'local>,
    handle: jlong,
    thread: jlong,
    id: jlong,
    from: jint,
    to: jint,
    depth: jint,
    max_objects: jint,
) -> JObjectArray<'local> {
    entry(&mut env, |env| {
        let heap = client(handle)?;
        let values = heap.list_values(
            thread as u64,
            id as u64,
            index_arg(from)?,
            index_arg(to)?,
            count_arg(depth, "depth")?,
            count_arg(max_objects, "max_objects")?,
        )?;
        values_to_java(env, &heap, values.into_iter())
    })
}

/// The entries as one array, key and value alternating: `[key0, value0, key1, value1, ...]`.
#[no_mangle]
pub extern "system" fn Java_org_sovereign_heap_Native_entries<'local>(
    mut env: JNIEnv<'local>,
    _class: JClass<'local>,
    handle: jlong,
    thread: jlong,
    id: jlong,
    depth: jint,
    max_objects: jint,
) -> JObjectArray<'local> {
    entry(&mut env, |env| {
        let heap = client(handle)?;
        let entries =
            heap.entries(thread as u64, id as u64, count_arg(depth, "depth")?, count_arg(max_objects, "max_objects")?)?;
        let flat: Vec<Value> = entries.into_iter().flat_map(|(key, value)| [Value::String(key), value]).collect();
        values_to_java(env, &heap, flat.into_iter())
    })
}

/// `count` writes: entry `keys[i]` of object `ids[i]` becomes the value (tag, bits, text, bytes)
/// at `i` of `tags`, `bits`, `texts` (String values) and `blobs` (byte[] values; may be null when
/// no write carries bytes), as `Values.java` splits a value.
#[no_mangle]
pub extern "system" fn Java_org_sovereign_heap_Native_setMany<'local>(
    mut env: JNIEnv<'local>,
    _class: JClass<'local>,
    handle: jlong,
    thread: jlong,
    ids: JLongArray<'local>,
    keys: JObjectArray<'local>,
    tags: JIntArray<'local>,
    bits: JLongArray<'local>,
    texts: JObjectArray<'local>,
    blobs: JObjectArray<'local>,
    count: jint,
) {
    entry(&mut env, |env| {
        let heap = client(handle)?;
        let count = usize::try_from(count).map_err(|_| Failure::Type(format!("write count {count} is negative")))?;
        let ids = longs(env, &ids, count, "ids")?;
        let tags = ints(env, &tags, count, "tags")?;
        let bits = longs(env, &bits, count, "bits")?;
        require_length(env.get_array_length(&keys)?, count, "keys")?;
        require_length(env.get_array_length(&texts)?, count, "texts")?;
        let mut writes = Vec::with_capacity(count);
        for index in 0..count {
            let tag = ValueTag::from_code(tags[index])?;
            let key = string_element(env, &keys, index, "key")?;
            let text = if tag == ValueTag::String {
                Some(string_element(env, &texts, index, "a String value")?)
            } else {
                None
            };
            let bytes = if tag == ValueTag::Bytes { bytes_element(env, &blobs, index)? } else { None };
            writes.push(FieldWrite {
                id: ids[index] as u64,
                key,
                value: value_from_parts(tag, bits[index], text, bytes)?,
            });
        }
        Ok(heap.set_many(thread as u64, writes)?)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn negative_counts_are_refused() {
        assert_eq!(count_arg(0, "depth").expect("valid"), 0);
        assert_eq!(count_arg(64, "depth").expect("valid"), 64);
        assert!(matches!(count_arg(-1, "depth"), Err(Failure::Type(_))));
    }

    #[test]
    fn a_batch_array_shorter_than_the_count_is_refused() {
        assert!(require_length(3, 3, "ids").is_ok());
        assert!(require_length(4, 3, "ids").is_ok());
        let Err(Failure::Type(message)) = require_length(2, 3, "ids") else {
            panic!("a type failure");
        };
        assert!(message.contains("ids has 2 elements, fewer than the 3"), "{message}");
        assert!(matches!(require_length(-1, 0, "ids"), Err(Failure::Type(_))));
    }
}
