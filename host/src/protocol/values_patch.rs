//! The values and config values patches Deckhouse accepts (only `add` and `remove`,
//! rooted at the module's key, parents created, absent removes dropped); written once, in
//! `hooks-manifest`.

pub use hooks_manifest::output::{ValuesChange as Change, values_patch as build};
