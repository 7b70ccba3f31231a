//! The feed of changes on PostgreSQL with several writers: a transaction that wrote a change and has not
//! committed keeps every later change from readers, so a device never moves its cursor past a change that
//! becomes visible afterwards. Without the horizon (reading every committed row in id order) the reader below
//! would get the second change first, move past the first, and never see it.

use chrono::Utc;
use protocol::{ChangeBody, FindingState, FindingUpdated, Role};
use sqlx::Connection;
use sync_server::db::{AccountStore, FeedPosition, NewUser, PgStore};
use uuid::Uuid;

mod support;

fn updated(state: FindingState) -> ChangeBody {
    ChangeBody::FindingUpdated(FindingUpdated {
        finding_id: Uuid::new_v4(),
        state,
        reason: None,
        case: None,
        grid: None,
    })
}

#[test]
fn a_change_committed_late_is_not_passed_by_a_reader() {
    let Some(db) = support::postgres_database() else { return };
    let store =
        PgStore::connect(&db.url, sync_server::Zone::parse("+08:00").unwrap(), std::time::Duration::from_secs(10))
            .unwrap();
    let new_user = NewUser {
        username: "wang".into(),
        password_hash: "x".into(),
        display_name: "王".into(),
        role: Role::Inspector,
        team: Some("一中队".into()),
        department: None,
    };
    let wang = store.add_user(new_user, Utc::now()).unwrap();
    let (first, second) = (updated(FindingState::Filed), updated(FindingState::Rejected));
    // Another server's transaction writes the first change and has not committed yet.
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let mut other = runtime.block_on(sqlx::PgConnection::connect(&db.url)).unwrap();
    runtime
        .block_on(async {
            sqlx::query("BEGIN").execute(&mut other).await?;
            sqlx::query("INSERT INTO changes (user_id, team, kind, body, at) VALUES ($1, NULL, $2, $3, now())")
                .bind(wang.id)
                .bind(first.kind())
                .bind(serde_json::to_value(&first).unwrap())
                .execute(&mut other)
                .await
        })
        .unwrap();
    // This server writes the second change, committed at once (a later transaction, a later id).
    store.put_change(Some(wang.id), None, &second, Utc::now()).unwrap();

    // The device reads while the first is still open: nothing yet, and its position does not move.
    let page = store.changes_after(&wang, FeedPosition::default(), 100).unwrap();
    assert!(page.changes.is_empty(), "the second change waits for the first: {:?}", page.changes);
    assert_eq!(page.position, FeedPosition::default());

    // The first commits: the device gets both, in the order of their transactions, and then nothing more.
    runtime.block_on(sqlx::query("COMMIT").execute(&mut other)).unwrap();
    let page = store.changes_after(&wang, page.position, 100).unwrap();
    let bodies: Vec<&ChangeBody> = page.changes.iter().map(|(_, c)| &c.body).collect();
    assert_eq!(bodies, vec![&first, &second]);
    assert!(page.changes[0].0 < page.changes[1].0);
    let after = store.changes_after(&wang, page.position, 100).unwrap();
    assert!(after.changes.is_empty() && after.position == page.position);

    // Paged one at a time from the start, the same two.
    let one = store.changes_after(&wang, FeedPosition::default(), 1).unwrap();
    assert!(one.more && one.changes.len() == 1);
    let two = store.changes_after(&wang, one.position, 1).unwrap();
    assert_eq!((two.changes.len(), two.more), (1, false));
    assert_eq!(&two.changes[0].1.body, &second);
    // Another user's change is not this user's.
    store.put_change(Some(Uuid::new_v4()), None, &updated(FindingState::Merged), Utc::now()).unwrap();
    assert!(store.changes_after(&wang, two.position, 10).unwrap().changes.is_empty());
    runtime.block_on(other.close()).unwrap();
}
