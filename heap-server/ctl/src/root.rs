//! `heapctl root` and `heapctl object`: JSON documents bound to roots (set, get, list, delete),
//! and objects as stored.

use anyhow::bail;
use heap_client::tx;
use heap_client::ClusterClient;
use heapctl::json;
use proto::heap as pb;

/// Stores the JSON document `text` as an object graph bound to root `name` (one transaction).
pub async fn set(client: &ClusterClient, name: &str, text: &str) -> anyhow::Result<()> {
    let transaction = json::root_set_transaction(name, text)?;
    match client.commit(transaction).await?.result {
        Some(pb::commit_response::Result::Committed(c)) => {
            let id = c.created.first().map(|c| c.id).unwrap_or(0);
            println!("root {name} = object {id} (log index {})", c.log_index);
            Ok(())
        }
        Some(pb::commit_response::Result::Rejected(r)) => bail!("rejected: {}", r.message),
        None => bail!("the server sent an empty answer"),
    }
}

/// Prints the graph bound to root `name` as JSON.
pub async fn get(client: &ClusterClient, name: &str) -> anyhow::Result<()> {
    let graph = client
        .read(pb::ReadRequest {
            roots: vec![name.to_string()],
            ids: Vec::new(),
            depth: json::JSON_DEPTH_MAX,
            max_objects: 0,
            ..Default::default()
        })
        .await?;
    let Some(root) = graph.roots.iter().find(|r| r.name == name) else {
        bail!("unknown root {name:?} (list roots with `heapctl root list`)");
    };
    if graph.truncated {
        bail!("root {name:?} holds more objects than one read returns; use `heapctl object get`");
    }
    println!("{}", json::graph_to_json(root.id, &graph.objects)?);
    Ok(())
}

/// Removes root `name` (one transaction); says so if it was not bound.
pub async fn delete(client: &ClusterClient, name: &str) -> anyhow::Result<()> {
    let roots = client.list_roots().await?.roots;
    let Some(bound) = roots.iter().find(|root| root.name == name) else {
        bail!("unknown root {name:?} (list roots with `heapctl root list`)");
    };
    let transaction = tx::transaction(vec![tx::unbind_root(name)]);
    match client.commit(transaction).await?.result {
        Some(pb::commit_response::Result::Committed(c)) => {
            println!(
                "root {name} (object {}) deleted at log index {}; objects nothing else references or holds are \
                 collected within seconds",
                bound.id, c.log_index
            );
            Ok(())
        }
        Some(pb::commit_response::Result::Rejected(r)) => bail!("rejected: {}", r.message),
        None => bail!("the server sent an empty answer"),
    }
}

/// Prints every root and the object it is bound to, one per line.
pub async fn list(client: &ClusterClient) -> anyhow::Result<()> {
    for root in client.list_roots().await?.roots {
        println!("{}\t{}", root.name, root.id);
    }
    Ok(())
}

/// Prints object `id` (and what it references, to `depth`) as stored.
pub async fn object_get(client: &ClusterClient, id: u64, depth: u32) -> anyhow::Result<()> {
    let graph = client
        .read(pb::ReadRequest { roots: Vec::new(), ids: vec![id], depth, max_objects: 0, ..Default::default() })
        .await?;
    if graph.missing_ids.contains(&id) {
        bail!("unknown object id {id}");
    }
    for object in &graph.objects {
        println!("{}", json::typed_object(object));
    }
    Ok(())
}
