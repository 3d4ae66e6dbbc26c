//! The names the real migrator gives its objects, reproduced exactly so a rerun by
//! either migrator finds the other's objects: the pool slug, the LVMLogicalVolume's
//! hashed suffix and the attachment name's truncation past 253 characters.

use sha1::{Digest, Sha1};

use crate::names::POOL_PREFIX;

/// The longest pool slug after the prefix.
const SLUG_MAX: usize = 50;
/// The longest Kubernetes object name (a DNS-1123 subdomain).
const NAME_MAX: usize = 253;

/// `linstor-auto-<slug>`: lowercase, trimmed, every run of characters outside
/// `[a-z0-9]` one `-`, no leading or trailing `-`, at most 50 characters, `pool` if
/// nothing is left.
pub fn pool(linstor_pool: &str) -> String {
    let lower = linstor_pool.trim().to_lowercase();
    let mut slug = String::with_capacity(lower.len());
    for c in lower.chars() {
        if c.is_ascii_lowercase() || c.is_ascii_digit() {
            slug.push(c);
        } else if !slug.is_empty() && !slug.ends_with('-') {
            slug.push('-');
        }
    }
    let mut slug = slug.trim_matches('-').to_owned();
    if slug.len() > SLUG_MAX {
        slug.truncate(SLUG_MAX);
        slug.truncate(slug.trim_end_matches('-').len());
    }
    if slug.is_empty() {
        slug.push_str("pool");
    }
    format!("{POOL_PREFIX}{slug}")
}

/// `<rvr>-<hex fnv-1a 128 of lvg, NUL, thin pool>`: the controller's own LLV naming.
pub fn llv(rvr: &str, lvg: &str, thin_pool: Option<&str>) -> String {
    let mut hash = Fnv1a128::new();
    hash.write(lvg.as_bytes());
    hash.write(&[0]);
    hash.write(thin_pool.unwrap_or("").as_bytes());
    format!("{rvr}-{:032x}", hash.0)
}

/// `csi-<volume>-<node>`; past 253 characters both parts are cut (half each, no
/// trailing `-` or `.`) and the first 8 hex digits of the full name's SHA-1 appended.
pub fn attachment(volume: &str, node: &str) -> String {
    let full = format!("csi-{volume}-{node}");
    if full.len() <= NAME_MAX {
        return full;
    }
    let digest = Sha1::digest(full.as_bytes());
    let hash: String = digest.iter().take(4).map(|b| format!("{b:02x}")).collect();
    // "csi-" + volume + "-" + node + "-" + hash
    let parts = NAME_MAX - "csi-".len() - 2 - hash.len();
    let volume_max = parts / 2;
    let node_max = parts - volume_max;
    format!(
        "csi-{}-{}-{hash}",
        cut(volume, volume_max),
        cut(node, node_max)
    )
}

/// The first `max` bytes, without one trailing `-` and then one trailing `.`.
fn cut(part: &str, max: usize) -> &str {
    if part.len() <= max {
        return part;
    }
    let mut end = max;
    while !part.is_char_boundary(end) {
        end -= 1;
    }
    let cut = &part[..end];
    let cut = cut.strip_suffix('-').unwrap_or(cut);
    cut.strip_suffix('.').unwrap_or(cut)
}

/// FNV-1a, 128 bits (Go's `hash/fnv.New128a`).
struct Fnv1a128(u128);

impl Fnv1a128 {
    const OFFSET: u128 = 0x6c62_272e_07bb_0142_62b8_2175_6295_c58d;
    const PRIME: u128 = 0x0000_0000_0100_0000_0000_0000_0000_013b;

    fn new() -> Self {
        Self(Self::OFFSET)
    }

    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 ^= u128::from(*b);
            self.0 = self.0.wrapping_mul(Self::PRIME);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fnv1a_128_matches_the_reference_vectors() {
        let hex = |input: &[u8]| {
            let mut h = Fnv1a128::new();
            h.write(input);
            format!("{:032x}", h.0)
        };
        assert_eq!(hex(b""), "6c62272e07bb014262b821756295c58d");
        assert_eq!(hex(b"a"), "d228cb696f1a8caf78912b704e4a8964");
    }

    #[test]
    fn llv_names_hash_group_and_thin_pool() {
        let thick = llv("pvc-1-0", "vg-a", None);
        assert!(thick.starts_with("pvc-1-0-") && thick.len() == "pvc-1-0-".len() + 32);
        assert_ne!(thick, llv("pvc-1-0", "vg-a", Some("thin")));
        assert_ne!(llv("x", "ab", Some("c")), llv("x", "a", Some("bc")));
    }

    #[test]
    fn pool_slugs_collapse_trim_cut_and_default() {
        assert_eq!(pool("Pool.A"), "linstor-auto-pool-a");
        assert_eq!(pool("  --My__Pool--  "), "linstor-auto-my-pool");
        assert_eq!(pool("..."), "linstor-auto-pool");
        assert_eq!(pool(""), "linstor-auto-pool");
        let long = format!("{}-{}", "a".repeat(49), "b".repeat(10));
        assert_eq!(pool(&long), format!("linstor-auto-{}", "a".repeat(49)));
    }

    #[test]
    fn attachment_names_are_kept_or_cut_with_a_hash() {
        assert_eq!(attachment("pvc-1", "node-a"), "csi-pvc-1-node-a");
        let volume = "v".repeat(200);
        let node = format!("{}-{}", "n".repeat(119), "m".repeat(20));
        let name = attachment(&volume, &node);
        // 4 + 119 + 1 + 119 (the node's trailing '-' dropped) + 1 + 8.
        assert_eq!(name.len(), 252);
        let full = format!("csi-{volume}-{node}");
        let digest = Sha1::digest(full.as_bytes());
        let hash: String = digest.iter().take(4).map(|b| format!("{b:02x}")).collect();
        assert!(name.ends_with(&format!("-{hash}")), "{name}");
        assert!(
            name.starts_with(&format!("csi-{}-", "v".repeat(119))),
            "{name}"
        );
        // The node part is cut at 120 bytes: 119 n's and a '-', which is dropped.
        assert!(
            name.contains(&format!("-{}-{hash}", "n".repeat(119))),
            "{name}"
        );
    }
}
