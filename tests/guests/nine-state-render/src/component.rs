//! The WIT glue: exports the nine-state table through the `render` interface.

wit_bindgen::generate!({ path: "../../../wit", world: "render-guest" });

render_plan::export_render_guest!(crate::TABLE);
