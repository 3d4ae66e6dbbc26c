//! Lists are paginated: with pages of 1 to 3 objects (asked for by the guest, or
//! imposed by the server) the migration ends in exactly the state of a default run.

use guest_migrate::Settings;
use migration_data::snapshot::{Difference, store_state};

use crate::support::cluster::{Lines, StoreCluster};
use crate::support::data::{fixture, seeded};
use crate::support::deckhouse::{complete_with, play};

fn run(settings: Settings, server_page: usize) -> (StoreCluster, usize) {
    let mut cluster = seeded(fixture("small-cluster.yaml"));
    cluster.max_page = server_page;
    complete_with(&mut cluster, &mut Lines::default(), settings);
    play(&mut cluster.store);
    let lists = cluster.lists;
    (cluster, lists)
}

#[test]
fn tiny_pages_give_the_same_end_state() {
    let (reference, reference_lists) = run(Settings::default(), 0);
    let expected = store_state(&reference.store);
    for page_size in 1..=3 {
        let settings = Settings {
            page_size,
            ..Settings::default()
        };
        let (cluster, lists) = run(settings, 0);
        if let Some(difference) = Difference::between(&expected, &store_state(&cluster.store)) {
            panic!("pageSize {page_size}: end state differs\n{difference}");
        }
        // Every kind took several pages: far more list calls than with 500 a page.
        assert!(
            lists >= reference_lists * 2,
            "pageSize {page_size}: {lists} lists vs {reference_lists}"
        );
    }
}

#[test]
fn a_server_returning_fewer_than_asked_is_followed_to_the_end() {
    let (reference, _) = run(Settings::default(), 0);
    let (cluster, _) = run(Settings::default(), 2);
    assert_eq!(
        Difference::between(&store_state(&reference.store), &store_state(&cluster.store)),
        None
    );
}
