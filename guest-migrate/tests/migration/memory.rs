//! The guest's memory stays bounded at scale: a generated cluster of 10,000 volumes x
//! 3 replicas migrates end to end with the default settings while the guest holds far
//! less than its 512 MiB limit (grants.yaml), measured by the tagging allocator.

use deckhouse_hooks_sdk::Step;
use guest_migrate::Settings;
use migration_data::generator::cluster;
use migration_data::snapshot::migration_state;

use crate::support::cluster::{Lines, Served};
use crate::support::data::seeded;
use crate::support::deckhouse::{job, play};
use crate::support::meter::{Metered, as_guest, peak, reset_peak};

#[global_allocator]
static ALLOCATOR: crate::support::meter::Tagging = crate::support::meter::Tagging;

/// The Job guest's `memoryMiB` in grants.yaml.
const LIMIT: usize = 512 << 20;

/// Migrates `volumes` volumes; returns the guest's peak bytes.
fn guest_peak(volumes: usize) -> usize {
    let mut store = seeded(cluster(volumes));
    reset_peak();
    let (mut migrator, clock) = as_guest(true, || job(Settings::default()));
    for _ in 0..20 {
        play(&mut store.store);
        let step = as_guest(true, || {
            let mut log = Lines::default();
            let served = Served::new(&mut store, &mut log);
            migrator.step(&Metered { inner: &served })
        });
        match step {
            Ok(Step::Done(_)) => {
                assert_eq!(
                    migration_state(&store.store).as_deref(),
                    Some("all_completed")
                );
                let peak = peak();
                as_guest(true, || drop(migrator));
                return peak;
            }
            Ok(Step::Wait { ms, .. }) => clock.advance(std::time::Duration::from_millis(ms.into())),
            Err(error) => panic!("{volumes} volumes: {error}"),
        }
    }
    panic!("{volumes} volumes did not finish");
}

#[test]
fn ten_thousand_volumes_stay_far_below_the_guest_memory_limit() {
    let small = guest_peak(1_000);
    let big = guest_peak(10_000);
    println!(
        "guest peak: 1,000 volumes {:.1} MiB, 10,000 volumes {:.1} MiB (limit {} MiB)",
        small as f64 / f64::from(1 << 20),
        big as f64 / f64::from(1 << 20),
        LIMIT >> 20
    );
    assert!(
        big < LIMIT / 4,
        "10,000 volumes: the guest peaked at {big} bytes"
    );
    // Pages bound the raw JSON held; what grows is the compact plan and indexes.
    assert!(
        big < small * 12,
        "memory grows faster than the cluster: {small} -> {big}"
    );
}
