//! Keeps a cache folder bounded. Every changed guest, `grants.yaml` or host adds entries
//! and nothing else ever removes the old ones, so a node whose hooks folder lives long
//! (an SRE swapping guests, a module updated in place) would fill its disk a megabyte or
//! a few at a time.
//!
//! Only a run that has just written an entry prunes (a warm run writes nothing, so it
//! never pays for the folder listing). Files go by entry: `<key>.cwasm` with its
//! `<key>.sum`, an index, a manifest's JSON. The entries used longest ago go first, by the
//! later of their modification and access times: a warm run only maps and reads entries,
//! and the kernel's default `relatime` still moves access times once a day. Removing an
//! entry a node still uses costs its next run one compile, which writes it again. Only
//! files this cache names are touched, and a writer's temporary file only once it is an
//! hour old (a crashed writer's leftover, never one being written).

use crate::logging;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

/// The most the cache's files may take; the oldest entries beyond it are removed.
pub const MAX_CACHE_BYTES: u64 = 1 << 30;

/// The most entries the cache keeps (an index is a few hundred bytes, but each is a file).
pub const MAX_CACHE_ENTRIES: usize = 512;

/// How old a temporary file must be before it counts as a crashed writer's leftover.
const STALE_TEMP: Duration = Duration::from_secs(3600);

/// What one pruning removed.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Pruned {
    pub entries: usize,
    pub bytes: u64,
}

/// One entry: the files sharing a stem (with their sizes), used last at `used`.
struct Entry {
    files: Vec<(PathBuf, u64)>,
    bytes: u64,
    used: SystemTime,
}

/// Removes the entries used longest ago until `dir` holds at most `max_bytes` and
/// `max_entries`, and temporary files an hour old; never the entries whose files are
/// `keep` (the ones just written). A file that cannot be removed is left and logged.
pub fn prune(dir: &Path, keep: &[&Path], max_bytes: u64, max_entries: usize) -> Pruned {
    let keep: Vec<&str> = keep
        .iter()
        .filter_map(|path| path.file_name()?.to_str().and_then(entry_stem))
        .collect();
    let Ok(listing) = std::fs::read_dir(dir) else {
        return Pruned::default();
    };
    let now = SystemTime::now();
    let mut pruned = Pruned::default();
    let mut entries: HashMap<String, Entry> = HashMap::new();
    for file in listing.flatten() {
        let (Ok(name), Ok(meta)) = (file.file_name().into_string(), file.metadata()) else {
            continue;
        };
        if !meta.is_file() {
            continue;
        }
        let used = last_used(&meta);
        if name.starts_with(".tmp") {
            if now.duration_since(used).is_ok_and(|age| age >= STALE_TEMP) {
                remove(&file.path(), meta.len(), &mut pruned);
            }
            continue;
        }
        let Some(stem) = entry_stem(&name) else {
            continue;
        };
        let entry = entries.entry(stem.to_owned()).or_insert(Entry {
            files: Vec::new(),
            bytes: 0,
            used: SystemTime::UNIX_EPOCH,
        });
        entry.files.push((file.path(), meta.len()));
        entry.bytes += meta.len();
        entry.used = entry.used.max(used);
    }
    let mut bytes: u64 = entries.values().map(|e| e.bytes).sum();
    let mut count = entries.len();
    let mut oldest: Vec<(String, Entry)> = entries.into_iter().collect();
    oldest.sort_by(|(a, x), (b, y)| x.used.cmp(&y.used).then_with(|| a.cmp(b)));
    for (stem, entry) in oldest {
        if bytes <= max_bytes && count <= max_entries {
            break;
        }
        if keep.contains(&stem.as_str()) {
            continue;
        }
        for (file, len) in &entry.files {
            remove(file, *len, &mut pruned);
        }
        pruned.entries += 1;
        bytes -= entry.bytes;
        count -= 1;
    }
    if pruned != Pruned::default() {
        logging::debug(
            "cache pruned",
            &[
                ("folder", dir.display().to_string().into()),
                ("entries", pruned.entries.into()),
                ("bytes", pruned.bytes.into()),
            ],
        );
    }
    pruned
}

/// The stem of a file this cache names (`<hex>.cwasm|sum|idx|manifest.json`).
fn entry_stem(name: &str) -> Option<&str> {
    let (stem, kind) = name.split_once('.')?;
    let ours = matches!(kind, "cwasm" | "sum" | "idx" | "manifest.json");
    let hex = !stem.is_empty() && stem.bytes().all(|b| b.is_ascii_hexdigit() || b == b'-');
    (ours && hex).then_some(stem)
}

/// When a file was last used: written, or read (at `relatime`'s daily granularity).
fn last_used(meta: &std::fs::Metadata) -> SystemTime {
    let modified = meta.modified().unwrap_or(SystemTime::UNIX_EPOCH);
    let accessed = meta.accessed().unwrap_or(SystemTime::UNIX_EPOCH);
    modified.max(accessed)
}

fn remove(file: &Path, len: u64, pruned: &mut Pruned) {
    match std::fs::remove_file(file) {
        Ok(()) => pruned.bytes += len,
        Err(e) => logging::debug(
            "cache file not removed",
            &[
                ("file", file.display().to_string().into()),
                ("reason", e.to_string().into()),
            ],
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs::File;

    /// Writes `name` with `len` bytes, last used `age` ago.
    fn file(dir: &Path, name: &str, len: usize, age: u64) {
        std::fs::write(dir.join(name), vec![0u8; len]).unwrap();
        let at = SystemTime::now() - Duration::from_secs(age);
        let times = std::fs::FileTimes::new().set_modified(at).set_accessed(at);
        File::options()
            .write(true)
            .open(dir.join(name))
            .unwrap()
            .set_times(times)
            .unwrap();
    }

    fn names(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|f| f.unwrap().file_name().into_string().unwrap())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn the_entries_used_longest_ago_go_first_whole() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        file(d, "aa-01.cwasm", 100, 300);
        file(d, "aa-01.sum", 64, 300);
        file(d, "bb-02.cwasm", 100, 200);
        file(d, "bb-02.sum", 64, 200);
        file(d, "cc.idx", 10, 100);
        file(d, "dd.manifest.json", 10, 10);
        let pruned = prune(d, &[&d.join("dd.manifest.json")], 100, 100);
        assert_eq!(
            pruned,
            Pruned {
                entries: 2,
                bytes: 328
            }
        );
        assert_eq!(names(d), ["cc.idx", "dd.manifest.json"]);
    }

    #[test]
    fn the_entry_just_written_stays_even_when_it_is_the_oldest() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        file(d, "aa.cwasm", 10, 500);
        file(d, "bb.idx", 10, 400);
        file(d, "cc.idx", 10, 300);
        let pruned = prune(d, &[&d.join("aa.cwasm")], 1 << 20, 1);
        assert_eq!(pruned.entries, 2);
        assert_eq!(names(d), ["aa.cwasm"]);
    }

    #[test]
    fn within_bounds_nothing_goes_and_foreign_files_never_do() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        file(d, "aa.cwasm", 10, 500);
        file(d, "notes.txt", 10, 99_999);
        file(d, "zz.cwasm", 10, 99_999); // not hex: not a name this cache gives
        std::fs::create_dir(d.join("ab.idx")).unwrap();
        assert_eq!(prune(d, &[], 1 << 20, 10), Pruned::default());
        assert_eq!(prune(d, &[], 0, 0).entries, 1);
        assert_eq!(names(d), ["ab.idx", "notes.txt", "zz.cwasm"]);
    }

    #[test]
    fn a_temporary_file_goes_only_once_it_is_an_hour_old() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        file(d, ".tmpOld123", 10, 7200);
        file(d, ".tmpNew456", 10, 60);
        let pruned = prune(d, &[], 1 << 20, 10);
        assert_eq!(
            pruned,
            Pruned {
                entries: 0,
                bytes: 10
            }
        );
        assert_eq!(names(d), [".tmpNew456"]);
    }

    #[test]
    fn a_missing_folder_prunes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(
            prune(&dir.path().join("gone"), &[], 0, 0),
            Pruned::default()
        );
    }
}
