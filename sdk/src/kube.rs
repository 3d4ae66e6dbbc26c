//! The Kubernetes client of a hook or job: reads (get, paged list, an iterator over all
//! pages) and every object operation Deckhouse offers (module-sdk's `PatchCollector`):
//! `Create`, `CreateIfNotExists`, `CreateOrUpdate`, `Delete`, `DeleteInBackground`,
//! `DeleteNonCascading`, `MergePatch` and `JSONPatch`, with a subresource and
//! `ignoreMissingObject`.
//!
//! In a hook run, reads are served from the run's snapshots and writes are queued as
//! object operations Deckhouse applies after the run; in a job they reach the API server.
//! Unlike module-sdk's collector each call answers at once, so a hook can react to a
//! conflict or a missing grant.

use crate::host::Host;
use hooks_manifest::{
    CreateMode, DeleteMode, KubeError, ListPage, ListQuery, ObjectRef, PatchKind, PatchOptions,
};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

/// The client over a [`Host`].
#[derive(Clone, Copy)]
pub struct Kube<'h> {
    host: &'h dyn Host,
}

impl<'h> Kube<'h> {
    /// A client over `host`.
    pub fn new(host: &'h dyn Host) -> Self {
        Self { host }
    }

    /// One object, decoded.
    pub fn get<T: DeserializeOwned>(&self, target: &ObjectRef) -> Result<T, KubeError> {
        decode(self.host.get(target)?, "get")
    }

    /// One object, None when it does not exist.
    pub fn get_opt<T: DeserializeOwned>(&self, target: &ObjectRef) -> Result<Option<T>, KubeError> {
        match self.get(target) {
            Ok(object) => Ok(Some(object)),
            Err(KubeError::NotFound(_)) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// One page of a list.
    pub fn list(&self, query: &ListQuery) -> Result<ListPage, KubeError> {
        self.host.list(query)
    }

    /// The list page by page, as an iterator: each item is one call, and a page is
    /// dropped before the next is fetched, so a caller that handles a page at a time
    /// holds one page whatever the kind's size. An error ends it.
    pub fn pages(&self, query: &ListQuery) -> Pages<'h> {
        Pages {
            host: self.host,
            query: query.clone(),
            done: false,
        }
    }

    /// Every matching object, page after page, as an iterator; an error ends it.
    pub fn list_all(&self, query: &ListQuery) -> ListAll<'h> {
        ListAll {
            pages: self.pages(query),
            page: Vec::new().into_iter(),
        }
    }

    /// Every matching object, decoded.
    pub fn list_all_as<T: DeserializeOwned>(&self, query: &ListQuery) -> Result<Vec<T>, KubeError> {
        self.list_all(query)
            .map(|item| item.and_then(|o| decode(o, "list")))
            .collect()
    }

    /// `Create`: an existing object is a conflict.
    pub fn create(&self, object: &impl Serialize) -> Result<Value, KubeError> {
        self.host.create(&encode(object)?, CreateMode::Create)
    }

    /// `CreateIfNotExists`: an existing object is left alone and returned.
    pub fn create_if_not_exists(&self, object: &impl Serialize) -> Result<Value, KubeError> {
        self.host.create(&encode(object)?, CreateMode::IfNotExists)
    }

    /// `CreateOrUpdate`: an existing object is replaced.
    pub fn create_or_update(&self, object: &impl Serialize) -> Result<Value, KubeError> {
        self.host.create(&encode(object)?, CreateMode::OrUpdate)
    }

    /// Many creates of one mode, sent concurrently by the host; one result per object,
    /// in order. The objects are JSON already (a batch is large: it is sent as it is,
    /// not encoded again); make typed ones JSON with `serde_json::to_value`.
    pub fn create_many(
        &self,
        objects: &[Value],
        mode: CreateMode,
    ) -> Vec<Result<Value, KubeError>> {
        self.host.create_many(objects, mode)
    }

    /// `Delete`: foreground, dependents first.
    pub fn delete(&self, target: &ObjectRef) -> Result<(), KubeError> {
        self.host.delete(target, DeleteMode::Foreground)
    }

    /// `DeleteInBackground`: the garbage collector removes dependents afterwards.
    pub fn delete_in_background(&self, target: &ObjectRef) -> Result<(), KubeError> {
        self.host.delete(target, DeleteMode::Background)
    }

    /// `DeleteNonCascading`: dependents are orphaned.
    pub fn delete_non_cascading(&self, target: &ObjectRef) -> Result<(), KubeError> {
        self.host.delete(target, DeleteMode::Orphan)
    }

    /// `MergePatch` (RFC 7386).
    pub fn merge_patch(
        &self,
        target: &ObjectRef,
        patch: &impl Serialize,
        options: &PatchOptions,
    ) -> Result<Value, KubeError> {
        self.host
            .patch(target, PatchKind::Merge, &encode(patch)?, options)
    }

    /// `JSONPatch` (RFC 6902): `operations` is the array of operations.
    pub fn json_patch(
        &self,
        target: &ObjectRef,
        operations: &impl Serialize,
        options: &PatchOptions,
    ) -> Result<Value, KubeError> {
        let operations = encode(operations)?;
        if !operations.is_array() {
            return Err(KubeError::Invalid(format!(
                "a JSON patch of {target} must be an array of operations"
            )));
        }
        self.host
            .patch(target, PatchKind::Json, &operations, options)
    }
}

/// A list page by page; see [`Kube::pages`].
pub struct Pages<'h> {
    host: &'h dyn Host,
    query: ListQuery,
    done: bool,
}

impl Iterator for Pages<'_> {
    type Item = Result<Vec<Value>, KubeError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        match self.host.list(&self.query) {
            Ok(page) => {
                // The API server ends a list with an empty token as well as with none.
                self.query.continue_token = page.continue_token.filter(|t| !t.is_empty());
                self.done = self.query.continue_token.is_none();
                Some(Ok(page.items))
            }
            Err(e) => {
                self.done = true;
                Some(Err(e))
            }
        }
    }
}

/// Every object of a list, fetching the next page when one runs out.
pub struct ListAll<'h> {
    pages: Pages<'h>,
    page: std::vec::IntoIter<Value>,
}

impl Iterator for ListAll<'_> {
    type Item = Result<Value, KubeError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some(item) = self.page.next() {
                return Some(Ok(item));
            }
            match self.pages.next()? {
                Ok(page) => self.page = page.into_iter(),
                Err(e) => return Some(Err(e)),
            }
        }
    }
}

fn encode(value: &impl Serialize) -> Result<Value, KubeError> {
    serde_json::to_value(value)
        .map_err(|e| KubeError::Invalid(format!("the object does not serialize to JSON: {e}")))
}

fn decode<T: DeserializeOwned>(value: Value, call: &str) -> Result<T, KubeError> {
    serde_json::from_value(value)
        .map_err(|e| KubeError::Invalid(format!("the {call} answer does not decode: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::host::LogLevel;
    use serde_json::json;
    use std::cell::RefCell;

    /// Serves `total` numbered objects, `limit` per page, recording each query's token;
    /// the last page ends with an empty token, as the API server's can.
    struct Numbers {
        total: usize,
        tokens: RefCell<Vec<Option<String>>>,
    }

    impl Host for Numbers {
        fn get(&self, _: &ObjectRef) -> Result<Value, KubeError> {
            unreachable!("lists only")
        }
        fn list(&self, query: &ListQuery) -> Result<ListPage, KubeError> {
            self.tokens.borrow_mut().push(query.continue_token.clone());
            let from: usize = query
                .continue_token
                .as_deref()
                .map_or(0, |t| t.parse().unwrap_or(0));
            let to = (from + query.limit.unwrap_or(u32::MAX) as usize).min(self.total);
            Ok(ListPage {
                items: (from..to).map(|i| json!(i)).collect(),
                continue_token: Some(if to < self.total {
                    to.to_string()
                } else {
                    String::new()
                }),
            })
        }
        fn create(&self, _: &Value, _: CreateMode) -> Result<Value, KubeError> {
            unreachable!("lists only")
        }
        fn patch(
            &self,
            _: &ObjectRef,
            _: PatchKind,
            _: &Value,
            _: &PatchOptions,
        ) -> Result<Value, KubeError> {
            unreachable!("lists only")
        }
        fn delete(&self, _: &ObjectRef, _: DeleteMode) -> Result<(), KubeError> {
            unreachable!("lists only")
        }
        fn log(&self, _: LogLevel, _: &str, _: &[(&str, &str)]) {}
    }

    #[test]
    fn pages_follow_continue_tokens_to_the_end() {
        let numbers = Numbers {
            total: 7,
            tokens: RefCell::default(),
        };
        let kube = Kube::new(&numbers);
        let query = ListQuery::new("v1", "X").limit(3);
        let pages: Vec<Vec<Value>> = kube.pages(&query).collect::<Result<_, _>>().unwrap();
        assert_eq!(pages.iter().map(Vec::len).collect::<Vec<_>>(), [3, 3, 1]);
        assert_eq!(
            *numbers.tokens.borrow(),
            [None, Some("3".into()), Some("6".into())]
        );
        let all: Vec<Value> = kube.list_all_as(&query).unwrap();
        assert_eq!(all, (0..7).map(|i| json!(i)).collect::<Vec<_>>());
    }
}
