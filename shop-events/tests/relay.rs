//! The relay against the memory outbox and in-process publishers.

#![allow(clippy::unwrap_used)] // test code

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use parking_lot::Mutex;
use shop_core::{DomainEvent, EventId, EventType, OutboxStore, UserId};
use shop_events::{Delivery, EventPublisher, InProcessBus, OutboxRelay, PublishError, RelayConfig};
use shop_store::MemoryStore;

fn events(n: usize) -> Vec<DomainEvent> {
    (0..n)
        .map(|i| {
            DomainEvent::new(
                EventType::UserRegistered,
                UserId::generate().as_uuid(),
                serde_json::json!({ "n": i }),
            )
        })
        .collect()
}

fn fast() -> RelayConfig {
    {
        let mut config = RelayConfig::default();
        config.relay_id = "test".into();
        config.batch_size = 7;
        config.poll_interval = Duration::from_millis(10);
        config.min_backoff = Duration::from_millis(5);
        config.max_backoff = Duration::from_millis(20);
        config
    }
}

/// Records what it is given; fails the first `fail_first` batches; refuses the events in
/// `refuse` (while it holds them) and reports those in `unroutable` as unroutable.
#[derive(Default)]
struct Recorder {
    seen: Mutex<Vec<DomainEvent>>,
    fail_first: AtomicUsize,
    refuse: Mutex<HashSet<EventId>>,
    unroutable: Mutex<HashSet<EventId>>,
}

#[async_trait]
impl EventPublisher for Recorder {
    async fn publish(&self, events: &[DomainEvent]) -> Result<Vec<Delivery>, PublishError> {
        if self.fail_first.load(Ordering::SeqCst) > 0 {
            self.fail_first.fetch_sub(1, Ordering::SeqCst);
            return Err(PublishError::Unavailable("down".into()));
        }
        self.seen.lock().extend_from_slice(events);
        Ok(events
            .iter()
            .map(|e| {
                if self.refuse.lock().contains(&e.id) {
                    Delivery::Failed("nacked".into())
                } else if self.unroutable.lock().contains(&e.id) {
                    Delivery::Unroutable
                } else {
                    Delivery::Delivered
                }
            })
            .collect())
    }
}

/// How many times each event was handed to the publisher.
fn sends(seen: &[DomainEvent]) -> HashMap<EventId, usize> {
    let mut n = HashMap::new();
    for e in seen {
        *n.entry(e.id).or_default() += 1;
    }
    n
}

/// One event the broker keeps refusing holds nothing back: the events around it are marked
/// and never sent again; it alone is tried again, and goes once the broker takes it.
#[tokio::test]
async fn a_refused_event_holds_back_and_resends_nothing_else() {
    let store = Arc::new(MemoryStore::new());
    let sent = events(10);
    store.append_events(&sent).await.unwrap();
    let publisher = Arc::new(Recorder::default());
    publisher.refuse.lock().insert(sent[1].id);
    let relay = OutboxRelay::new(store.clone(), publisher.clone(), fast());
    // Batches of 7: the first marks 6 of 7, the second the last 3 beside the refused one,
    // then only the refused one is left and a batch of it alone is an error.
    assert_eq!(relay.run_once().await.unwrap(), 6);
    assert_eq!(relay.run_once().await.unwrap(), 3);
    assert!(relay.run_once().await.is_err());
    assert_eq!(
        store.outbox_stats().await.unwrap().pending,
        1,
        "only the refused one"
    );
    let counts = sends(&publisher.seen.lock());
    for e in sent.iter().filter(|e| e.id != sent[1].id) {
        assert_eq!(counts[&e.id], 1, "every other event sent once");
    }
    assert!(counts[&sent[1].id] >= 2, "the refused one is tried again");
    publisher.refuse.lock().clear();
    relay.run_once().await.unwrap();
    assert_eq!(store.outbox_stats().await.unwrap().pending, 0);
    let m = relay.metrics();
    assert_eq!(m.confirmed.load(Ordering::Relaxed), 10);
    assert!(m.refused.load(Ordering::Relaxed) >= 2);
}

/// An unroutable event is as published as it gets: marked, counted, never sent again.
#[tokio::test]
async fn unroutable_events_are_marked_and_counted() {
    let store = Arc::new(MemoryStore::new());
    let sent = events(4);
    store.append_events(&sent).await.unwrap();
    let publisher = Arc::new(Recorder::default());
    publisher.unroutable.lock().extend([sent[0].id, sent[2].id]);
    let relay = OutboxRelay::new(store.clone(), publisher.clone(), fast());
    assert_eq!(relay.run_once().await.unwrap(), 4);
    assert_eq!(relay.run_once().await.unwrap(), 0);
    assert_eq!(publisher.seen.lock().len(), 4);
    let m = relay.metrics();
    assert_eq!(m.unroutable.load(Ordering::Relaxed), 2);
    assert_eq!(m.confirmed.load(Ordering::Relaxed), 4);
}

/// A batch the broker took none of is an error, so the running relay backs off.
#[tokio::test]
async fn a_batch_refused_whole_is_a_failure() {
    let store = Arc::new(MemoryStore::new());
    let sent = events(2);
    store.append_events(&sent).await.unwrap();
    let publisher = Arc::new(Recorder::default());
    publisher.refuse.lock().extend(sent.iter().map(|e| e.id));
    let relay = OutboxRelay::new(store.clone(), publisher, fast());
    assert!(relay.run_once().await.is_err());
    assert_eq!(relay.metrics().failed.load(Ordering::Relaxed), 1);
    assert_eq!(store.outbox_stats().await.unwrap().pending, 2);
}

#[tokio::test]
async fn relays_everything_in_order_and_marks_it() {
    let store = Arc::new(MemoryStore::new());
    let sent = events(20);
    store.append_events(&sent).await.unwrap();
    let publisher = Arc::new(Recorder::default());
    let relay = OutboxRelay::new(store.clone(), publisher.clone(), fast());
    let lag = relay.lag().await.unwrap();
    assert_eq!(lag.pending, 20);
    assert_eq!(lag.oldest_pending_at, Some(sent[0].occurred_at));
    let mut total = 0;
    loop {
        let n = relay.run_once().await.unwrap();
        assert!(n <= 7);
        if n == 0 {
            break;
        }
        total += n;
    }
    assert_eq!(total, 20);
    assert_eq!(*publisher.seen.lock(), sent);
    assert_eq!(relay.lag().await.unwrap().pending, 0);
    let m = relay.metrics();
    assert_eq!(m.confirmed.load(Ordering::Relaxed), 20);
}

#[tokio::test]
async fn a_failed_batch_is_retried_and_nothing_is_lost() {
    let store = Arc::new(MemoryStore::new());
    let sent = events(10);
    store.append_events(&sent).await.unwrap();
    let publisher = Arc::new(Recorder::default());
    publisher.fail_first.store(3, Ordering::SeqCst);
    let relay = Arc::new(OutboxRelay::new(store.clone(), publisher.clone(), fast()));
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let task = tokio::spawn({
        let relay = relay.clone();
        async move { relay.run(stopped).await }
    });
    for _ in 0..200 {
        if store.outbox_stats().await.unwrap().pending == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    stop.send(true).unwrap();
    tokio::time::timeout(Duration::from_secs(5), task)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(*publisher.seen.lock(), sent, "every event once, in order");
    let m = relay.metrics();
    assert_eq!(m.failed.load(Ordering::Relaxed), 3);
    assert_eq!(m.retried.load(Ordering::Relaxed), 3);
    assert_eq!(m.confirmed.load(Ordering::Relaxed), 10);
}

#[tokio::test]
async fn failures_are_counted_when_driven_by_hand_too() {
    let store = Arc::new(MemoryStore::new());
    store.append_events(&events(2)).await.unwrap();
    let publisher = Arc::new(Recorder::default());
    publisher.fail_first.store(1, Ordering::SeqCst);
    let relay = OutboxRelay::new(store, publisher, fast());
    assert!(relay.run_once().await.is_err());
    assert_eq!(relay.run_once().await.unwrap(), 2);
    let m = relay.metrics();
    assert_eq!(m.failed.load(Ordering::Relaxed), 1);
    assert_eq!(
        m.retried.load(Ordering::Relaxed),
        0,
        "no running loop scheduled a retry"
    );
    assert_eq!(m.confirmed.load(Ordering::Relaxed), 2);
}

#[tokio::test]
async fn two_relays_do_not_publish_the_same_event() {
    let store = Arc::new(MemoryStore::new());
    store.append_events(&events(50)).await.unwrap();
    let publisher = Arc::new(Recorder::default());
    let a = OutboxRelay::new(store.clone(), publisher.clone(), {
        let mut config = fast();
        config.relay_id = "a".into();
        config
    });
    let b = OutboxRelay::new(store.clone(), publisher.clone(), {
        let mut config = fast();
        config.relay_id = "b".into();
        config
    });
    loop {
        let (x, y) = tokio::join!(a.run_once(), b.run_once());
        if x.unwrap() + y.unwrap() == 0 {
            break;
        }
    }
    let seen = publisher.seen.lock();
    let mut ids: Vec<_> = seen.iter().map(|e| e.id).collect();
    ids.sort();
    ids.dedup();
    assert_eq!((seen.len(), ids.len()), (50, 50));
}

#[tokio::test]
async fn the_bus_delivers_to_subscribers() {
    let bus = InProcessBus::new(16);
    let mut rx = bus.subscribe();
    let sent = events(3);
    bus.publish(&sent).await.unwrap();
    for e in &sent {
        assert_eq!(&rx.recv().await.unwrap(), e);
    }
    // No subscribers is fine.
    InProcessBus::default().publish(&sent).await.unwrap();
}

/// On PostgreSQL the relay does not wait out its poll interval: the outbox trigger's
/// notification wakes it when the appending transaction commits. With a 60 s interval, the
/// event is published within a few milliseconds of its commit (the latency is printed).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[allow(clippy::print_stderr)] // the measured latency, for the reader of the test output
async fn on_postgres_a_commit_wakes_the_idle_relay() {
    let Some(scratch) = shop_store::scratch::postgres(4).await else {
        return;
    };
    let store = Arc::new(scratch.store.clone());
    let bus = Arc::new(InProcessBus::default());
    let mut received = bus.subscribe();
    let mut config = fast();
    config.poll_interval = Duration::from_secs(60);
    let relay = OutboxRelay::new(store.clone(), bus, config);
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let relaying = tokio::spawn(async move { relay.run(stopped).await });
    // Let it find the outbox empty and start waiting.
    tokio::time::sleep(Duration::from_millis(500)).await;

    let committed = std::time::Instant::now();
    store.append_events(&events(1)).await.unwrap();
    let event = tokio::time::timeout(Duration::from_secs(10), received.recv())
        .await
        .expect("not published within 10 s: the relay was not woken")
        .unwrap();
    let latency = committed.elapsed();
    eprintln!("commit to publish: {latency:?} (poll interval 60 s)");
    assert_eq!(event.event_type, EventType::UserRegistered);
    assert!(latency < Duration::from_secs(10));
    stop.send(true).unwrap();
    relaying.await.unwrap();
}
