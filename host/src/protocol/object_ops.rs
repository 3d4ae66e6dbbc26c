//! Object operations are checked by the object patcher's rules before anything is
//! written; the rules live once, in `hooks-manifest`, so the SDK's test kit applies them
//! natively too.

pub use hooks_manifest::object_ops::check;
