//! `heapctl lock hold|list` and `heapctl session list`.

use std::io::Write;
use std::sync::Arc;
use std::time::Duration;
use std::time::Instant;

use anyhow::bail;
use heap_client::ClusterClient;
use heap_client::LockOutcome;
use heap_client::Session;
use proto::heap as pb;

/// The thread id heapctl holds locks as (one per process; the session is its own).
const HEAPCTL_THREAD: u64 = 1;

/// Acquires `name`, prints the fencing token, holds it for `hold_ms` (keeping the session alive),
/// releases it and closes the session.
pub async fn hold(client: ClusterClient, name: &str, read: bool, hold_ms: u64, ttl_ms: u64) -> anyhow::Result<()> {
    let session = Session::open(Arc::new(client), "heapctl", ttl_ms).await?;
    let mode = if read { pb::LockMode::Read } else { pb::LockMode::Write };
    let started = Instant::now();
    let token = match session.lock(name, HEAPCTL_THREAD, mode, None).await? {
        LockOutcome::Granted { token } => token,
        LockOutcome::TimedOut => bail!("lock {name:?} was not granted"),
    };
    println!("granted {name} token {token} to session {} after {} ms", session.id(), started.elapsed().as_millis());
    // Tests and scripts read this line while the lock is held.
    std::io::stdout().flush()?;
    tokio::time::sleep(Duration::from_millis(hold_ms)).await;
    let response = session.unlock(name, HEAPCTL_THREAD, None).await?;
    if let Some(pb::session_response::Result::Rejected(r)) = response.result {
        bail!("release of {name:?} refused: {}", r.message);
    }
    println!("released {name}");
    session.close().await?;
    Ok(())
}

pub async fn list(client: &ClusterClient, as_json: bool) -> anyhow::Result<()> {
    let locks = client.list_locks().await?.locks;
    let waiter = |w: &pb::LockWaiter| {
        serde_json::json!({
            "session": w.session_id,
            "thread": w.thread,
            "mode": if w.mode == pb::LockMode::Read as i32 { "read" } else { "write" },
        })
    };
    if as_json {
        let json: Vec<serde_json::Value> = locks
            .iter()
            .map(|l| {
                serde_json::json!({
                    "name": l.name,
                    "mode": l.mode,
                    "holders": l.holders.iter().map(|h| serde_json::json!({
                        "session": h.session_id, "thread": h.thread, "token": h.token,
                    })).collect::<Vec<_>>(),
                    "waiters": l.waiters.iter().map(waiter).collect::<Vec<_>>(),
                })
            })
            .collect();
        println!("{}", serde_json::Value::Array(json));
        return Ok(());
    }
    println!("{:<24} {:<6} {:<40} {:>8}", "name", "mode", "holders (session/thread/token)", "waiters");
    for lock in &locks {
        let holders: Vec<String> =
            lock.holders.iter().map(|h| format!("{}/{}/{}", h.session_id, h.thread, h.token)).collect();
        println!("{:<24} {:<6} {:<40} {:>8}", lock.name, lock.mode, holders.join(" "), lock.waiters.len());
    }
    Ok(())
}

pub async fn sessions(client: &ClusterClient, as_json: bool) -> anyhow::Result<()> {
    let sessions = client.list_sessions().await?.sessions;
    if as_json {
        let json: Vec<serde_json::Value> = sessions
            .iter()
            .map(|s| serde_json::json!({ "id": s.id, "client": s.client, "expires_in_ms": s.expires_in_ms }))
            .collect();
        println!("{}", serde_json::Value::Array(json));
        return Ok(());
    }
    println!("{:<8} {:<24} {:>10} {:>14}", "id", "client", "ttl_ms", "expires_in_ms");
    for s in &sessions {
        println!("{:<8} {:<24} {:>10} {:>14}", s.id, s.client, s.ttl_ms, s.expires_in_ms);
    }
    Ok(())
}
