//! `Failure`: everything a native entry point can fail with, and the Java exception each one
//! becomes. The mapping is a pure function (tested without a JVM); `throw` raises it.

use std::any::Any;

use jni::JNIEnv;

use heap_client::HeapError;

pub const HEAP_EXCEPTION: &str = "org/sovereign/heap/HeapException";
pub const CLOSED_EXCEPTION: &str = "org/sovereign/heap/HeapClosedException";
pub const UNAVAILABLE_EXCEPTION: &str = "org/sovereign/heap/HeapUnavailableException";
pub const SESSION_ENDED_EXCEPTION: &str = "org/sovereign/heap/HeapSessionEndedException";
pub const CONFLICT_EXCEPTION: &str = "org/sovereign/heap/HeapConflictException";
pub const REJECTED_EXCEPTION: &str = "org/sovereign/heap/HeapRejectedException";
pub const TYPE_EXCEPTION: &str = "org/sovereign/heap/HeapTypeException";
/// Releasing, waiting on or signalling a lock the thread does not hold, as in java.util.concurrent.
pub const MONITOR_EXCEPTION: &str = "java/lang/IllegalMonitorStateException";

#[derive(Debug)]
pub enum Failure {
    /// The client library refused or failed the operation.
    Heap(HeapError),
    /// A JNI call failed. `JavaException` means a Java exception is already pending: it is left
    /// as it is, so the caller sees the original.
    Jni(jni::errors::Error),
    /// A value or argument of the wrong type (a field read with the wrong getter, a bad tag).
    Type(String),
    /// The handle is not (or no longer) an open client.
    Closed,
    /// Too many clients open in this JVM.
    TooManyClients,
    /// A key id that `Native.internKey` never issued: a bug in the jar, or a jar and native
    /// library that do not match.
    UnknownKey(i32),
    /// A panic in the native code: a bug, reported instead of unwinding into the JVM.
    Panic(String),
}

impl From<HeapError> for Failure {
    fn from(error: HeapError) -> Self {
        Failure::Heap(error)
    }
}

impl From<jni::errors::Error> for Failure {
    fn from(error: jni::errors::Error) -> Self {
        Failure::Jni(error)
    }
}

impl Failure {
    /// The panic payload as text (panics carry a `&str` or a `String`).
    pub fn from_panic(payload: &(dyn Any + Send)) -> Self {
        let message = if let Some(text) = payload.downcast_ref::<&str>() {
            (*text).to_string()
        } else if let Some(text) = payload.downcast_ref::<String>() {
            text.clone()
        } else {
            "a panic without a message".to_string()
        };
        Failure::Panic(message)
    }

    /// The exception class and message to throw, or None when a Java exception is already pending.
    pub fn exception(&self) -> Option<(&'static str, String)> {
        let (class, message) = match self {
            Failure::Heap(error) => {
                let class = match error {
                    HeapError::Closed => CLOSED_EXCEPTION,
                    HeapError::Unavailable(_) => UNAVAILABLE_EXCEPTION,
                    HeapError::SessionEnded(_) => SESSION_ENDED_EXCEPTION,
                    HeapError::Conflict(_) => CONFLICT_EXCEPTION,
                    HeapError::Rejected(_) => REJECTED_EXCEPTION,
                    HeapError::TypeMismatch(_) => TYPE_EXCEPTION,
                    HeapError::IllegalState(_) => MONITOR_EXCEPTION,
                    HeapError::Internal(_) => HEAP_EXCEPTION,
                };
                (class, error.to_string())
            }
            Failure::Jni(jni::errors::Error::JavaException) => return None,
            Failure::Jni(error) => {
                (HEAP_EXCEPTION, format!("JNI call failed in the native heap client: {error}; please report it"))
            }
            Failure::Type(message) => (TYPE_EXCEPTION, message.clone()),
            Failure::Closed => (CLOSED_EXCEPTION, HeapError::Closed.to_string()),
            Failure::TooManyClients => (
                HEAP_EXCEPTION,
                format!(
                    "{} heap clients are open in this JVM, the most allowed; close clients you no longer \
                     use (one HeapClient serves every thread)",
                    super::HANDLES_MAX
                ),
            ),
            Failure::UnknownKey(id) => (
                HEAP_EXCEPTION,
                format!(
                    "key id {id} was never issued by the native heap client (ids come from Native.internKey); \
                     the jar and its native library do not match, or this is a bug: please report it"
                ),
            ),
            Failure::Panic(message) => (
                HEAP_EXCEPTION,
                format!("internal error in the native heap client (panic: {message}); please report it"),
            ),
        };
        Some((class, message))
    }

    /// Raises this failure in `env` as a Java exception (unless one is pending already).
    pub fn throw(&self, env: &mut JNIEnv) {
        if env.exception_check().unwrap_or(true) {
            return;
        }
        if let Some((class, message)) = self.exception() {
            // If even this fails (class missing), the JVM has a NoClassDefFoundError pending,
            // which is the best there is to report.
            let _ = env.throw_new(class, message);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn class_of(failure: Failure) -> Option<&'static str> {
        failure.exception().map(|(class, _)| class)
    }

    #[test]
    fn every_heap_error_has_its_own_exception() {
        let cases = [
            (HeapError::Closed, CLOSED_EXCEPTION),
            (HeapError::Unavailable("u".into()), UNAVAILABLE_EXCEPTION),
            (HeapError::SessionEnded("s".into()), SESSION_ENDED_EXCEPTION),
            (HeapError::Conflict("c".into()), CONFLICT_EXCEPTION),
            (HeapError::Rejected("r".into()), REJECTED_EXCEPTION),
            (HeapError::TypeMismatch("t".into()), TYPE_EXCEPTION),
            (HeapError::IllegalState("i".into()), MONITOR_EXCEPTION),
            (HeapError::Internal("x".into()), HEAP_EXCEPTION),
        ];
        for (error, class) in cases {
            assert_eq!(class_of(Failure::Heap(error)), Some(class));
        }
    }

    #[test]
    fn the_message_is_the_errors_advice() {
        let (_, message) = Failure::Heap(HeapError::Unavailable("no node of a:1 answered; start it".into()))
            .exception()
            .expect("throws");
        assert_eq!(message, "no node of a:1 answered; start it");
        let (_, closed) = Failure::Closed.exception().expect("throws");
        assert!(closed.contains("closed"), "{closed}");
    }

    #[test]
    fn a_pending_java_exception_is_left_alone() {
        assert_eq!(class_of(Failure::Jni(jni::errors::Error::JavaException)), None);
        assert_eq!(class_of(Failure::Jni(jni::errors::Error::NullPtr("x"))), Some(HEAP_EXCEPTION));
    }

    #[test]
    fn an_unknown_key_id_is_a_heap_exception_naming_the_id() {
        let (class, message) = Failure::UnknownKey(-7).exception().expect("throws");
        assert_eq!(class, HEAP_EXCEPTION);
        assert!(message.contains("key id -7 was never issued"), "{message}");
    }

    #[test]
    fn panics_become_heap_exceptions_with_their_message() {
        let payload = std::panic::catch_unwind(|| panic!("boom {}", 7)).expect_err("panics");
        let (class, message) = Failure::from_panic(payload.as_ref()).exception().expect("throws");
        assert_eq!(class, HEAP_EXCEPTION);
        assert!(message.contains("boom 7"), "{message}");
        let payload = std::panic::catch_unwind(|| std::panic::panic_any(5u8)).expect_err("panics");
        assert!(matches!(Failure::from_panic(payload.as_ref()), Failure::Panic(m) if m.contains("without")));
    }
}
