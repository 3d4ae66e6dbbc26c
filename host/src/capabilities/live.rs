//! Being written: the live kube-rs backend.
