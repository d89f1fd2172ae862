//! Taking the client's std locks, with a poisoned lock (a panic elsewhere) turned into an error
//! the caller can report instead of a second panic.

use std::sync::Mutex;
use std::sync::MutexGuard;
use std::sync::RwLock;
use std::sync::RwLockReadGuard;
use std::sync::RwLockWriteGuard;

use super::error::HeapError;

pub(super) fn lock<T>(mutex: &Mutex<T>) -> Result<MutexGuard<'_, T>, HeapError> {
    mutex.lock().map_err(|_| HeapError::Internal("a client lock was poisoned by a panic".into()))
}

pub(super) fn read_lock<T>(lock: &RwLock<T>) -> Result<RwLockReadGuard<'_, T>, HeapError> {
    lock.read().map_err(|_| HeapError::Internal("a client lock was poisoned by a panic".into()))
}

pub(super) fn write_lock<T>(lock: &RwLock<T>) -> Result<RwLockWriteGuard<'_, T>, HeapError> {
    lock.write().map_err(|_| HeapError::Internal("a client lock was poisoned by a panic".into()))
}
