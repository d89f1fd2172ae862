//! Adapts the pure heap (`heap_machine::Heap`) to raft-store's `Machine` contract.

use heap_machine::Heap;
use raft_store::ChangeSet;
use raft_store::LoadError;
use raft_store::Machine;

/// The heap as raft-store drives it.
#[derive(Default)]
pub struct HeapMachine {
    pub heap: Heap,
}

impl Machine for HeapMachine {
    fn apply(&mut self, log_index: u64, command: &[u8], changes: &mut ChangeSet) -> Vec<u8> {
        self.heap.apply(log_index, command, &mut changes.writes)
    }

    fn clear(&mut self) {
        self.heap.clear();
    }

    fn load(&mut self, key: &[u8], value: &[u8]) -> Result<(), LoadError> {
        self.heap.load(key, value).map_err(|e| LoadError { key: key.to_vec(), reason: e.to_string() })
    }

    fn export(&self) -> Vec<(Vec<u8>, Vec<u8>)> {
        self.heap.export()
    }

    fn validate(&self) -> Result<(), LoadError> {
        self.heap.validate().map_err(|reason| LoadError { key: Vec::new(), reason })
    }
}
