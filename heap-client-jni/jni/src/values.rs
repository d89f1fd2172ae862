//! Values crossing the JNI boundary. Java sends a value as (tag, bits, text, bytes): the tag says
//! which part holds it, so no Java object has to be inspected from Rust. Rust answers with the
//! boxed Java object (`Long`, `Double`, `Boolean`, `String`, `byte[]`) or an
//! `org.sovereign.heap.Ref` (id + kind) that the Java side wraps in a `HeapObject`/`HeapMap`/`HeapList`.
//! The codes here must match `Values.java` and `HeapClient.java`.

use jni::objects::JObject;
use jni::objects::JValue;
use jni::JNIEnv;

use crate::failure::Failure;
use heap_client::BlockingHeap;
use heap_client::ObjectKind;
use heap_client::Value;

/// Which argument of a set/push/insert call carries the value (`Values.TAG_*` in Java).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueTag {
    Null = 0,
    Bool = 1,
    Long = 2,
    Double = 3,
    String = 4,
    Bytes = 5,
    Object = 6,
}

impl ValueTag {
    pub fn from_code(code: i32) -> Result<Self, Failure> {
        Ok(match code {
            0 => ValueTag::Null,
            1 => ValueTag::Bool,
            2 => ValueTag::Long,
            3 => ValueTag::Double,
            4 => ValueTag::String,
            5 => ValueTag::Bytes,
            6 => ValueTag::Object,
            other => {
                return Err(Failure::Type(format!(
                    "unknown value tag {other} from Java; the jar and its native library do not match"
                )))
            }
        })
    }
}

/// `HeapClient.KIND_*` in Java.
pub fn kind_code(kind: ObjectKind) -> i32 {
    match kind {
        ObjectKind::Fields => 0,
        ObjectKind::Map => 1,
        ObjectKind::List => 2,
    }
}

pub fn kind_from_code(code: i32) -> Result<ObjectKind, Failure> {
    match code {
        0 => Ok(ObjectKind::Fields),
        1 => Ok(ObjectKind::Map),
        2 => Ok(ObjectKind::List),
        other => Err(Failure::Type(format!(
            "unknown object kind {other} from Java; the jar and its native library do not match"
        ))),
    }
}

/// The value Java sent. `text` and `bytes` are read (by the caller) only when the tag needs them.
pub fn value_from_parts(
    tag: ValueTag,
    bits: i64,
    text: Option<String>,
    bytes: Option<Vec<u8>>,
) -> Result<Value, Failure> {
    let missing =
        |what: &str| Failure::Type(format!("a {what} value arrived without its {what}; this is a bug in the jar"));
    Ok(match tag {
        ValueTag::Null => Value::Null,
        ValueTag::Bool => Value::Bool(bits != 0),
        ValueTag::Long => Value::Long(bits),
        ValueTag::Double => Value::Double(f64::from_bits(bits as u64)),
        ValueTag::String => Value::String(text.ok_or_else(|| missing("String"))?),
        ValueTag::Bytes => Value::Bytes(bytes.ok_or_else(|| missing("byte[]"))?),
        ValueTag::Object => Value::Object(bits as u64),
    })
}

/// The Java name of what a value holds, for error messages.
pub fn java_type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "Boolean",
        Value::Long(_) => "Long",
        Value::Double(_) => "Double",
        Value::String(_) => "String",
        Value::Bytes(_) => "byte[]",
        Value::Object(_) => "heap object reference",
    }
}

/// The error for a typed getter (`getLong`, ...) that found another type.
pub fn wrong_type(key: &str, id: u64, found: &Value, wanted: &str) -> Failure {
    Failure::Type(format!(
        "`{key}` of object {id} holds a {}, not a {wanted}; read it with get() or the getter for {}",
        java_type_name(found),
        java_type_name(found)
    ))
}

/// The Java object for `value` (a local reference owned by the caller's frame).
pub fn value_to_java<'local>(
    env: &mut JNIEnv<'local>,
    heap: &BlockingHeap,
    value: Value,
) -> Result<JObject<'local>, Failure> {
    Ok(match value {
        Value::Null => JObject::null(),
        Value::Bool(b) => env
            .call_static_method("java/lang/Boolean", "valueOf", "(Z)Ljava/lang/Boolean;", &[JValue::Bool(u8::from(b))])?
            .l()?,
        Value::Long(v) => {
            env.call_static_method("java/lang/Long", "valueOf", "(J)Ljava/lang/Long;", &[JValue::Long(v)])?.l()?
        }
        Value::Double(v) => {
            env.call_static_method("java/lang/Double", "valueOf", "(D)Ljava/lang/Double;", &[JValue::Double(v)])?.l()?
        }
        Value::String(text) => JObject::from(env.new_string(text)?),
        Value::Bytes(bytes) => JObject::from(env.byte_array_from_slice(&bytes)?),
        Value::Object(id) => {
            let kind = heap.kind(id)?;
            env.new_object("org/sovereign/heap/Ref", "(JI)V", &[JValue::Long(id as i64), JValue::Int(kind_code(kind))])?
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_round_trip_and_unknown_tags_are_refused() {
        for code in 0..=6 {
            assert_eq!(ValueTag::from_code(code).expect("known") as i32, code);
        }
        assert!(matches!(ValueTag::from_code(7), Err(Failure::Type(_))));
        assert!(matches!(ValueTag::from_code(-1), Err(Failure::Type(_))));
    }

    #[test]
    fn kinds_round_trip() {
        for kind in [ObjectKind::Fields, ObjectKind::Map, ObjectKind::List] {
            assert_eq!(kind_from_code(kind_code(kind)).expect("known"), kind);
        }
        assert!(kind_from_code(3).is_err());
    }

    #[test]
    fn values_are_rebuilt_from_their_parts() {
        let cases = [
            (ValueTag::Null, 0, Value::Null),
            (ValueTag::Bool, 1, Value::Bool(true)),
            (ValueTag::Bool, 0, Value::Bool(false)),
            (ValueTag::Long, i64::MIN, Value::Long(i64::MIN)),
            (ValueTag::Double, (-0.5f64).to_bits() as i64, Value::Double(-0.5)),
            (ValueTag::Object, 42, Value::Object(42)),
        ];
        for (tag, bits, expected) in cases {
            assert_eq!(value_from_parts(tag, bits, None, None).expect("valid"), expected);
        }
        let nan = value_from_parts(ValueTag::Double, f64::NAN.to_bits() as i64, None, None).expect("valid");
        assert!(matches!(nan, Value::Double(d) if d.is_nan()));
        assert_eq!(
            value_from_parts(ValueTag::String, 0, Some("é€𝄞".into()), None).expect("valid"),
            Value::String("é€𝄞".into())
        );
        assert_eq!(
            value_from_parts(ValueTag::Bytes, 0, None, Some(vec![0, 255])).expect("valid"),
            Value::Bytes(vec![0, 255])
        );
    }

    #[test]
    fn a_tag_without_its_payload_is_refused() {
        assert!(matches!(value_from_parts(ValueTag::String, 0, None, None), Err(Failure::Type(_))));
        assert!(matches!(value_from_parts(ValueTag::Bytes, 0, None, None), Err(Failure::Type(_))));
    }

    #[test]
    fn wrong_type_says_what_is_there_and_what_to_use() {
        let Failure::Type(message) = wrong_type("total", 5, &Value::String("x".into()), "long") else {
            panic!("a type failure");
        };
        assert!(message.contains("`total` of object 5 holds a String, not a long"), "{message}");
    }
}
