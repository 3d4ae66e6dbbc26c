//! `LiveBackend` against the loopback test API server: every call, error mapping,
//! retries with backoff (429 with Retry-After), giving up, timeouts; names checked
//! before any URL, capped answers, redirects; concurrent batched creates; and the test
//! server's pagination, field selectors and dry run.

use serde_json::{Value, json};
use std::time::{Duration, Instant};
use test_apiserver::{RawAnswer, Resource, TestApiServer};
use wasm_hooks::capabilities::backend::KubeBackend;
use wasm_hooks::capabilities::live::{LiveBackend, LiveOptions};
use wasm_hooks::capabilities::types::{
    CreateMode, DeleteMode, KubeError, ListQuery, ObjectRef, PatchKind, PatchOptions,
};

const RV_CRD: &str = include_str!("crds/storage.deckhouse.io_replicatedvolumes.yaml");
const LINSTOR_CRDS: &str = include_str!("crds/internal.linstor.linbit.com.yaml");

/// A server with the built-ins and real CRDs, a backend on it, and the kubeconfig's folder.
struct Setup {
    server: TestApiServer,
    backend: LiveBackend,
    _dir: tempfile::TempDir,
}

fn setup_with(options: LiveOptions) -> Setup {
    let mut resources = Resource::builtin();
    resources.extend(Resource::from_crd_yaml(RV_CRD).expect("ReplicatedVolume CRD"));
    resources.extend(Resource::from_crd_yaml(LINSTOR_CRDS).expect("LINSTOR CRDs"));
    let server = TestApiServer::start(resources);
    let dir = tempfile::tempdir().expect("temp dir");
    let kubeconfig = Some(server.kubeconfig(dir.path()));
    let backend = LiveBackend::connect(LiveOptions {
        kubeconfig,
        ..options
    })
    .expect("connect");
    Setup {
        server,
        backend,
        _dir: dir,
    }
}

/// Fast retries so failure tests stay quick.
fn fast() -> LiveOptions {
    LiveOptions {
        timeout: Duration::from_secs(5),
        attempts: 3,
        backoff: Duration::from_millis(10),
        max_backoff: Duration::from_millis(40),
        ..LiveOptions::default()
    }
}

fn setup() -> Setup {
    setup_with(fast())
}

fn cm_ref(name: &str) -> ObjectRef {
    ObjectRef {
        api_version: "v1".into(),
        kind: "ConfigMap".into(),
        namespace: Some("d8".into()),
        name: name.into(),
    }
}

fn cm(name: &str, app: &str) -> Value {
    json!({"apiVersion": "v1", "kind": "ConfigMap",
           "metadata": {"name": name, "namespace": "d8", "labels": {"app": app}}, "data": {"k": "v"}})
}

fn seed(server: &TestApiServer, object: Value) {
    server
        .store()
        .lock()
        .unwrap()
        .create(object)
        .expect("seed object");
}

fn cm_query(selector: Option<&str>) -> ListQuery {
    ListQuery {
        api_version: "v1".into(),
        kind: "ConfigMap".into(),
        namespace: Some("d8".into()),
        label_selector: selector.map(str::to_owned),
        ..ListQuery::default()
    }
}

#[track_caller]
fn assert_error(
    result: Result<impl std::fmt::Debug, KubeError>,
    expected: fn(&KubeError) -> bool,
    needle: &str,
) {
    match result {
        Err(error) if expected(&error) => assert!(
            error.to_string().contains(needle),
            "{error} lacks {needle:?}"
        ),
        other => panic!("unexpected result {other:?}"),
    }
}

#[test]
fn get_returns_the_stored_object() {
    let mut s = setup();
    seed(&s.server, cm("a", "x"));
    let object = s.backend.get(&cm_ref("a")).unwrap();
    assert_eq!(
        object,
        s.server
            .store()
            .lock()
            .unwrap()
            .get(&test_apiserver::Key::of(&cm("a", "x")).unwrap())
            .unwrap()
    );
}

#[test]
fn list_filters_by_label_and_namespace_and_types_items() {
    let mut s = setup();
    seed(&s.server, cm("a", "x"));
    seed(&s.server, cm("b", "y"));
    let mut elsewhere = cm("c", "x");
    elsewhere["metadata"]["namespace"] = json!("other");
    seed(&s.server, elsewhere);
    let names = |items: Vec<Value>| {
        items
            .iter()
            .map(|o| o["metadata"]["name"].as_str().unwrap().to_owned())
            .collect::<Vec<_>>()
    };
    assert_eq!(
        names(s.backend.list(&cm_query(Some("app=x"))).unwrap().items),
        ["a"]
    );
    assert_eq!(
        names(s.backend.list(&cm_query(None)).unwrap().items),
        ["a", "b"]
    );
    let everywhere = ListQuery {
        namespace: None,
        ..cm_query(Some("app=x"))
    };
    let items = s.backend.list(&everywhere).unwrap().items;
    assert_eq!(names(items.clone()), ["a", "c"]);
    assert!(
        items
            .iter()
            .all(|o| o["apiVersion"] == "v1" && o["kind"] == "ConfigMap")
    );
    assert_eq!(
        s.server.requests().last().unwrap().query.as_deref(),
        Some("&labelSelector=app%3Dx")
    );
}

#[test]
fn list_of_a_bad_selector_is_invalid() {
    let mut s = setup();
    assert_error(
        s.backend.list(&cm_query(Some("app in x"))),
        |e| matches!(e, KubeError::Invalid(_)),
        "label selector",
    );
}

#[test]
fn create_then_create_again() {
    let mut s = setup();
    let created = s.backend.create(cm("a", "x"), CreateMode::Create).unwrap();
    assert_eq!(created["metadata"]["resourceVersion"], "1");
    assert_error(
        s.backend.create(cm("a", "other"), CreateMode::Create),
        |e| matches!(e, KubeError::Conflict(_)),
        "already exists",
    );
    let existing = s
        .backend
        .create(cm("a", "other"), CreateMode::IfNotExists)
        .unwrap();
    assert_eq!(
        existing, created,
        "if_absent answers the stored object, unchanged"
    );
    let posts = s
        .server
        .requests()
        .iter()
        .filter(|r| r.method == "POST")
        .count();
    assert_eq!(posts, 3, "a create conflict is not retried");
}

#[test]
fn create_of_a_cluster_scoped_custom_resource() {
    let mut s = setup();
    let rv = json!({"apiVersion": "storage.deckhouse.io/v1alpha1", "kind": "ReplicatedVolume",
                    "metadata": {"name": "pvc-1"}, "spec": {"size": "1Gi"}});
    s.backend.create(rv, CreateMode::Create).unwrap();
    let rv_ref = ObjectRef::of(
        &json!({"apiVersion": "storage.deckhouse.io/v1alpha1", "kind": "ReplicatedVolume",
                                       "metadata": {"name": "pvc-1"}}),
    )
    .unwrap();
    assert_eq!(s.backend.get(&rv_ref).unwrap()["spec"]["size"], "1Gi");
    assert!(
        s.server
            .requests()
            .iter()
            .any(|r| r.path == "/apis/storage.deckhouse.io/v1alpha1/replicatedvolumes")
    );
}

#[test]
fn merge_patch_sends_merge_patch_json() {
    let mut s = setup();
    seed(&s.server, cm("a", "x"));
    let patched = s
        .backend
        .patch(
            &cm_ref("a"),
            PatchKind::Merge,
            json!({"data": {"k": null, "n": "1"}}),
            &PatchOptions::default(),
        )
        .unwrap();
    assert_eq!(patched["data"], json!({"n": "1"}));
    let last = s.server.requests().pop().unwrap();
    assert_eq!(
        last.content_type.as_deref(),
        Some("application/merge-patch+json")
    );
}

#[test]
fn json_patch_sends_json_patch_json() {
    let mut s = setup();
    seed(&s.server, cm("a", "x"));
    let ops = json!([{"op": "test", "path": "/data/k", "value": "v"}, {"op": "replace", "path": "/data/k", "value": "w"}]);
    let patched = s
        .backend
        .patch(&cm_ref("a"), PatchKind::Json, ops, &PatchOptions::default())
        .unwrap();
    assert_eq!(patched["data"]["k"], "w");
    let last = s.server.requests().pop().unwrap();
    assert_eq!(
        last.content_type.as_deref(),
        Some("application/json-patch+json")
    );
}

#[test]
fn patch_errors_map_to_kinds() {
    let mut s = setup();
    seed(&s.server, cm("a", "x"));
    let failed_test = json!([{"op": "test", "path": "/data/k", "value": "nope"}]);
    assert_error(
        s.backend.patch(
            &cm_ref("a"),
            PatchKind::Json,
            failed_test,
            &PatchOptions::default(),
        ),
        |e| matches!(e, KubeError::Conflict(_)),
        "HTTP 409",
    );
    let stale = json!({"metadata": {"resourceVersion": "999"}});
    assert_error(
        s.backend.patch(
            &cm_ref("a"),
            PatchKind::Merge,
            stale,
            &PatchOptions::default(),
        ),
        |e| matches!(e, KubeError::Conflict(_)),
        "modified",
    );
    let rename = json!({"metadata": {"name": "b"}});
    assert_error(
        s.backend.patch(
            &cm_ref("a"),
            PatchKind::Merge,
            rename,
            &PatchOptions::default(),
        ),
        |e| matches!(e, KubeError::Invalid(_)),
        "HTTP 422",
    );
    assert_error(
        s.backend.patch(
            &cm_ref("ghost"),
            PatchKind::Merge,
            json!({}),
            &PatchOptions::default(),
        ),
        |e| matches!(e, KubeError::NotFound(_)),
        "ConfigMap d8/ghost",
    );
}

#[test]
fn delete_then_not_found() {
    let mut s = setup();
    seed(&s.server, cm("a", "x"));
    s.backend
        .delete(&cm_ref("a"), DeleteMode::Foreground)
        .unwrap();
    assert!(s.server.store().lock().unwrap().is_empty());
    // Deleting what is already gone is not an error (the WIT contract, and Deckhouse's).
    s.backend
        .delete(&cm_ref("a"), DeleteMode::Background)
        .unwrap();
    assert_error(
        s.backend.get(&cm_ref("a")),
        |e| matches!(e, KubeError::NotFound(_)),
        "HTTP 404",
    );
}

#[test]
fn unknown_kinds_are_not_found() {
    let mut s = setup();
    let widget = ObjectRef {
        api_version: "example.com/v1".into(),
        kind: "Widget".into(),
        namespace: None,
        name: "w".into(),
    };
    assert_error(
        s.backend.get(&widget),
        |e| matches!(e, KubeError::NotFound(_)),
        "discover example.com/v1",
    );
    let missing_kind = ObjectRef {
        kind: "Gadget".into(),
        ..cm_ref("a")
    };
    assert_error(
        s.backend.get(&missing_kind),
        |e| matches!(e, KubeError::NotFound(_)),
        "does not serve",
    );
}

#[test]
fn scope_mistakes_are_invalid_before_any_request() {
    let mut s = setup();
    s.backend.list(&cm_query(None)).unwrap();
    let before = s.server.request_count();
    let no_namespace = ObjectRef {
        namespace: None,
        ..cm_ref("a")
    };
    assert_error(
        s.backend.get(&no_namespace),
        |e| matches!(e, KubeError::Invalid(_)),
        "namespaced",
    );
    let node =
        json!({"apiVersion": "v1", "kind": "Node", "metadata": {"name": "n", "namespace": "d8"}});
    assert_error(
        s.backend.create(node, CreateMode::Create),
        |e| matches!(e, KubeError::Invalid(_)),
        "cluster-scoped",
    );
    assert_eq!(
        s.server.request_count(),
        before,
        "nothing reached the server: Node shares the discovery of v1 with ConfigMap"
    );
}

#[test]
fn discovery_is_cached_per_group_version() {
    let mut s = setup();
    seed(&s.server, cm("a", "x"));
    for _ in 0..3 {
        s.backend.get(&cm_ref("a")).unwrap();
    }
    let discoveries = s
        .server
        .requests()
        .iter()
        .filter(|r| r.path == "/api/v1")
        .count();
    assert_eq!(discoveries, 1);
}

#[test]
fn server_errors_are_retried_until_success() {
    let mut s = setup();
    seed(&s.server, cm("a", "x"));
    s.backend.get(&cm_ref("a")).unwrap();
    s.server.fail_next(1, 500);
    s.server.fail_next(1, 429);
    let before = s.server.request_count();
    assert_eq!(
        s.backend.get(&cm_ref("a")).unwrap()["metadata"]["name"],
        "a"
    );
    assert_eq!(s.server.request_count(), before + 3);
}

#[test]
fn discovery_is_retried_too() {
    let mut s = setup();
    s.server.fail_next(2, 503);
    assert!(s.backend.list(&cm_query(None)).unwrap().items.is_empty());
    assert_eq!(s.server.request_count(), 4);
}

#[test]
fn retried_create_succeeds_once() {
    let mut s = setup();
    s.backend.list(&cm_query(None)).unwrap();
    s.server.fail_next(2, 500);
    s.backend.create(cm("a", "x"), CreateMode::Create).unwrap();
    assert_eq!(s.server.store().lock().unwrap().len(), 1);
}

#[test]
fn gives_up_after_the_configured_attempts() {
    let mut s = setup();
    s.backend.list(&cm_query(None)).unwrap();
    s.server.fail_next(10, 503);
    let before = s.server.request_count();
    assert_error(
        s.backend.get(&cm_ref("a")),
        |e| matches!(e, KubeError::Unavailable(_)),
        "gave up after 3 attempts",
    );
    assert_eq!(s.server.request_count(), before + 3);
}

#[test]
fn backoff_doubles_between_attempts() {
    let options = LiveOptions {
        backoff: Duration::from_millis(100),
        max_backoff: Duration::from_secs(1),
        ..fast()
    };
    let mut s = setup_with(options);
    s.backend.list(&cm_query(None)).unwrap();
    s.server.fail_next(2, 500);
    let started = Instant::now();
    s.backend.list(&cm_query(None)).unwrap();
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_millis(300),
        "100 ms then 200 ms, waited {waited:?}"
    );
    assert!(waited < Duration::from_secs(3), "waited {waited:?}");
}

#[test]
fn client_errors_are_final() {
    let mut s = setup();
    s.backend.list(&cm_query(None)).unwrap();
    for (code, check) in [
        (
            403,
            (|e: &KubeError| matches!(e, KubeError::Forbidden(_))) as fn(&KubeError) -> bool,
        ),
        (401, |e| matches!(e, KubeError::Forbidden(_))),
        (400, |e| matches!(e, KubeError::Invalid(_))),
        (409, |e| matches!(e, KubeError::Conflict(_))),
        (405, |e| matches!(e, KubeError::Unavailable(_))),
    ] {
        s.server.fail_next(1, code);
        let before = s.server.request_count();
        assert_error(s.backend.get(&cm_ref("a")), check, &format!("HTTP {code}"));
        assert_eq!(
            s.server.request_count(),
            before + 1,
            "{code} is not retried"
        );
    }
}

#[test]
fn a_slow_attempt_times_out_and_is_retried() {
    let options = LiveOptions {
        timeout: Duration::from_millis(300),
        ..fast()
    };
    let mut s = setup_with(options);
    seed(&s.server, cm("a", "x"));
    s.backend.get(&cm_ref("a")).unwrap();
    s.server.delay_next(1, Duration::from_secs(3));
    let started = Instant::now();
    assert_eq!(
        s.backend.get(&cm_ref("a")).unwrap()["metadata"]["name"],
        "a"
    );
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "the slow attempt was abandoned"
    );
}

#[test]
fn timeouts_give_up_with_a_clear_error() {
    let options = LiveOptions {
        timeout: Duration::from_millis(200),
        attempts: 2,
        ..fast()
    };
    let mut s = setup_with(options);
    s.backend.list(&cm_query(None)).unwrap();
    s.server.delay_next(2, Duration::from_secs(3));
    assert_error(
        s.backend.list(&cm_query(None)),
        |e| matches!(e, KubeError::Unavailable(_)),
        "timed out after 200ms",
    );
}

#[test]
fn an_unreachable_server_is_unavailable() {
    let server = TestApiServer::start(Resource::builtin());
    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = Some(server.kubeconfig(dir.path()));
    drop(server);
    let mut backend = LiveBackend::connect(LiveOptions {
        kubeconfig,
        ..fast()
    })
    .expect("connecting sends nothing");
    assert_error(
        backend.get(&cm_ref("a")),
        |e| matches!(e, KubeError::Unavailable(_)),
        "cannot reach the API server",
    );
}

#[test]
fn a_crashing_server_stops_the_job_with_unavailable() {
    let mut s = setup();
    s.backend.list(&cm_query(None)).unwrap();
    s.server.crash_after(1);
    s.backend.create(cm("a", "x"), CreateMode::Create).unwrap();
    assert_error(
        s.backend.create(cm("b", "x"), CreateMode::Create),
        |e| matches!(e, KubeError::Unavailable(_)),
        "crashed",
    );
    s.server.heal();
    s.backend.create(cm("b", "x"), CreateMode::Create).unwrap();
}

#[test]
fn a_missing_kubeconfig_names_the_file() {
    let options = LiveOptions {
        kubeconfig: Some("/nonexistent/kubeconfig".into()),
        ..fast()
    };
    let error = LiveBackend::connect(options)
        .err()
        .expect("a missing kubeconfig fails");
    assert!(
        format!("{error:#}").contains("/nonexistent/kubeconfig"),
        "{error:#}"
    );
}

#[test]
fn discovery_is_shared_by_the_kinds_of_a_group_version() {
    let mut s = setup();
    for kind in ["ResourceDefinitions", "Resources", "LayerDrbdResources"] {
        s.backend
            .list(&ListQuery {
                api_version: "internal.linstor.linbit.com/v1-19-1".into(),
                kind: kind.into(),
                ..ListQuery::default()
            })
            .unwrap();
    }
    let discoveries = s
        .server
        .requests()
        .iter()
        .filter(|r| r.path.starts_with("/apis/internal.linstor.linbit.com"))
        .filter(|r| {
            !r.path.contains("/resourcedefinitions")
                && !r.path.contains("/resources")
                && !r.path.contains("/layerdrbdresources")
        })
        .count();
    assert_eq!(discoveries, 1, "{:?}", s.server.requests());
}

#[test]
fn hostile_names_never_reach_the_server() {
    let mut s = setup();
    for name in ["../secrets", "%2e%2e", "a?dryRun=All", "a/b", ".."] {
        assert_error(
            s.backend.get(&cm_ref(name)),
            |e| matches!(e, KubeError::Invalid(_)),
            "is not a DNS-1123 subdomain",
        );
        assert_error(
            s.backend.delete(&cm_ref(name), DeleteMode::Background),
            |e| matches!(e, KubeError::Invalid(_)),
            "is not a DNS-1123 subdomain",
        );
    }
    let bad_namespace = ObjectRef {
        namespace: Some("../kube-system".into()),
        ..cm_ref("a")
    };
    assert_error(
        s.backend.get(&bad_namespace),
        |e| matches!(e, KubeError::Invalid(_)),
        "is not a valid DNS-1123 label",
    );
    assert_error(
        s.backend.patch(
            &cm_ref("a"),
            PatchKind::Merge,
            json!({}),
            &PatchOptions {
                subresource: Some("../../secrets/x".into()),
                ignore_missing_object: false,
            },
        ),
        |e| matches!(e, KubeError::Invalid(_)),
        "subresource",
    );
    assert_eq!(s.server.request_count(), 0, "{:?}", s.server.requests());
}

#[test]
fn a_redirect_is_reported_as_one() {
    let mut s = setup();
    s.backend.list(&cm_query(None)).unwrap();
    s.server.answer_next(
        1,
        RawAnswer {
            status: 302,
            headers: vec![("location".into(), "https://elsewhere.example/api".into())],
            body: vec![],
        },
    );
    let before = s.server.request_count();
    assert_error(
        s.backend.get(&cm_ref("a")),
        |e| matches!(e, KubeError::Unavailable(_)),
        "the API server answered with a redirect (HTTP 302 to https://elsewhere.example/api); redirects are not followed",
    );
    assert_eq!(
        s.server.request_count(),
        before + 1,
        "a redirect is not retried"
    );
}

#[test]
fn answers_are_capped() {
    let mut s = setup_with(LiveOptions {
        max_response_bytes: 4096,
        ..fast()
    });
    let mut big = cm("big", "x");
    big["data"]["k"] = json!("v".repeat(8192));
    seed(&s.server, big);
    seed(&s.server, cm("small", "x"));
    s.backend.get(&cm_ref("small")).unwrap();
    assert_error(
        s.backend.get(&cm_ref("big")),
        |e| matches!(e, KubeError::Unavailable(_)),
        "the API server's answer is larger than 4096 bytes",
    );
}

#[test]
fn a_429_waits_for_its_retry_after_capped() {
    let status_429 = |after: &str| {
        RawAnswer {
        status: 429,
        headers: vec![("retry-after".into(), after.into())],
        body: br#"{"kind":"Status","apiVersion":"v1","status":"Failure","message":"slow down","reason":"TooManyRequests","code":429}"#.to_vec(),
    }
    };
    let mut s = setup_with(LiveOptions {
        max_retry_after: Duration::from_millis(300),
        ..fast()
    });
    seed(&s.server, cm("a", "x"));
    s.backend.get(&cm_ref("a")).unwrap();
    s.server.answer_next(1, status_429("1"));
    let started = Instant::now();
    s.backend.get(&cm_ref("a")).unwrap();
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_millis(300),
        "Retry-After honoured up to the cap: {waited:?}"
    );
    s.server.answer_next(1, status_429("3600"));
    let started = Instant::now();
    s.backend.get(&cm_ref("a")).unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "Retry-After: 3600 is capped"
    );
}

#[test]
fn a_conflict_is_final() {
    let mut s = setup();
    s.backend.create(cm("a", "x"), CreateMode::Create).unwrap();
    let before = s.server.request_count();
    assert_error(
        s.backend.create(cm("a", "x"), CreateMode::Create),
        |e| matches!(e, KubeError::Conflict(_)),
        "already exists",
    );
    assert_eq!(s.server.request_count(), before + 1);
}

#[test]
fn create_many_sends_concurrently_and_answers_in_order() {
    let mut s = setup_with(LiveOptions {
        concurrency: 8,
        ..fast()
    });
    seed(&s.server, cm("taken", "x"));
    s.backend.list(&cm_query(None)).unwrap();
    s.server.delay_next(16, Duration::from_millis(100));
    let mut objects: Vec<Value> = (0..40).map(|i| cm(&format!("cm-{i:02}"), "x")).collect();
    objects[5] = cm("taken", "x");
    objects[7] = cm("Not_Valid", "x");
    let results = s.backend.create_many(objects, CreateMode::Create);
    assert_eq!(results.len(), 40);
    for (i, result) in results.iter().enumerate() {
        match i {
            5 => assert!(matches!(result, Err(KubeError::Conflict(_))), "{result:?}"),
            7 => assert!(matches!(result, Err(KubeError::Invalid(_))), "{result:?}"),
            _ => assert_eq!(
                result.as_ref().unwrap()["metadata"]["name"],
                format!("cm-{i:02}")
            ),
        }
    }
    assert_eq!(s.server.store().lock().unwrap().len(), 39);
    assert_eq!(
        s.server.max_in_flight(),
        8,
        "limits.concurrency creates in flight at once"
    );
}

#[test]
fn lists_page_with_limit_and_continue() {
    let mut s = setup();
    for i in 0..7 {
        seed(&s.server, cm(&format!("cm-{i}"), "x"));
    }
    let mut names = Vec::new();
    let mut query = ListQuery {
        limit: Some(3),
        ..cm_query(None)
    };
    let mut pages = 0;
    loop {
        let page = s.backend.list(&query).unwrap();
        pages += 1;
        names.extend(
            page.items
                .iter()
                .map(|o| o["metadata"]["name"].as_str().unwrap().to_owned()),
        );
        if pages == 1 {
            // An object added before the cursor mid-listing never makes a page repeat.
            seed(&s.server, cm("cm-0a", "x"));
        }
        match page.continue_token {
            Some(token) => query.continue_token = Some(token),
            None => break,
        }
    }
    assert_eq!(pages, 3);
    let expected: Vec<String> = (0..7).map(|i| format!("cm-{i}")).collect();
    assert_eq!(names, expected);
    let tokens: Vec<String> = s
        .server
        .requests()
        .iter()
        .filter_map(|r| r.query.clone())
        .filter(|q| q.contains("limit=3"))
        .collect();
    assert_eq!(tokens.len(), 3, "{tokens:?}");
    let bad = ListQuery {
        continue_token: Some("zz".into()),
        ..cm_query(None)
    };
    assert_error(
        s.backend.list(&bad),
        |e| matches!(e, KubeError::Invalid(_)),
        "continue token",
    );
}

#[test]
fn lists_take_field_selectors_on_name_and_namespace() {
    let mut s = setup();
    for name in ["a", "b", "c"] {
        seed(&s.server, cm(name, "x"));
    }
    let names = |s: &mut Setup, selector: &str| -> Vec<String> {
        s.backend
            .list(&ListQuery {
                field_selector: Some(selector.into()),
                ..cm_query(None)
            })
            .unwrap()
            .items
            .iter()
            .map(|o| o["metadata"]["name"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(names(&mut s, "metadata.name=b"), ["b"]);
    assert_eq!(names(&mut s, "metadata.name!=b"), ["a", "c"]);
    assert_eq!(
        names(&mut s, "metadata.namespace=d8,metadata.name==c"),
        ["c"]
    );
    assert!(names(&mut s, "metadata.namespace=other").is_empty());
    assert_error(
        s.backend.list(&ListQuery {
            field_selector: Some("spec.x=1".into()),
            ..cm_query(None)
        }),
        |e| matches!(e, KubeError::Invalid(_)),
        "field label not supported: spec.x",
    );
}

#[test]
fn a_dry_run_validates_writes_and_stores_nothing() {
    let mut s = setup_with(LiveOptions {
        dry_run: true,
        ..fast()
    });
    seed(&s.server, cm("kept", "x"));
    let before = s.server.store().lock().unwrap().clone();
    let created = s
        .backend
        .create(cm("new", "x"), CreateMode::Create)
        .unwrap();
    assert_eq!(created["metadata"]["name"], "new");
    assert_error(
        s.backend.create(cm("kept", "x"), CreateMode::Create),
        |e| matches!(e, KubeError::Conflict(_)),
        "already exists",
    );
    s.backend
        .patch(
            &cm_ref("kept"),
            PatchKind::Merge,
            json!({"data": {"k": "changed"}}),
            &PatchOptions::default(),
        )
        .unwrap();
    s.backend
        .delete(&cm_ref("kept"), DeleteMode::Background)
        .unwrap();
    let after = s.server.store().lock().unwrap().clone();
    let objects = |store: &test_apiserver::Store| store.objects().cloned().collect::<Vec<Value>>();
    assert_eq!(
        objects(&after),
        objects(&before),
        "a dry run changed the store"
    );
    assert!(
        s.server
            .requests()
            .iter()
            .filter(|r| ["POST", "PUT", "PATCH"].contains(&r.method.as_str()))
            .all(|r| r.query.as_deref().is_some_and(|q| q.contains("dryRun=All"))),
        "every write carries dryRun=All (a delete carries it in its DeleteOptions body)"
    );
}
