//! Adds a guest's entry to a `grants.yaml` as text, so every other line (comments, order,
//! flow mappings, blank lines) stays exactly as the module's author wrote it. The caller
//! parses the result to prove it is still a manifest with one guest more.

/// Appends `entry` (a YAML list item written at column 0) as the last item of the
/// top-level `guests:` list of `text`, indented like the items already there.
pub fn append_guest(text: &str, entry: &str) -> Result<String, String> {
    let lines: Vec<&str> = text.split_inclusive('\n').collect();
    let key = lines
        .iter()
        .position(|l| is_block_key(l))
        .ok_or_else(|| {
            if lines.iter().any(|l| l.starts_with("guests:")) {
                "its `guests:` list is written inline (flow style); add the entry by hand (see --print-grants)".to_owned()
            } else {
                "it has no top-level `guests:` list".to_owned()
            }
        })?;
    let indent = lines[key + 1..]
        .iter()
        .find(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#'))
        .filter(|l| l.trim_start().starts_with('-'))
        .map(|l| l.len() - l.trim_start().len())
        .unwrap_or(2);
    // The block ends at the next top-level key; comments right above that key belong to it.
    let mut end = lines[key + 1..]
        .iter()
        .position(|l| {
            let top = !l.starts_with([' ', '\t', '\n', '\r', '#']);
            top && !(indent == 0 && l.starts_with('-'))
        })
        .map_or(lines.len(), |i| key + 1 + i);
    while end > key + 1 && (lines[end - 1].trim().is_empty() || lines[end - 1].starts_with('#')) {
        end -= 1;
    }
    let pad = " ".repeat(indent);
    let mut out: String = lines[..end].concat();
    if !out.ends_with('\n') {
        out.push('\n');
    }
    for line in entry.lines() {
        if line.trim().is_empty() {
            out.push('\n');
        } else {
            out.push_str(&pad);
            out.push_str(line);
            out.push('\n');
        }
    }
    out.push_str(&lines[end..].concat());
    Ok(out)
}

/// `guests:` at column 0 with nothing after it but a comment.
fn is_block_key(line: &str) -> bool {
    line.strip_prefix("guests:").is_some_and(|rest| {
        let rest = rest.trim();
        rest.is_empty() || rest.starts_with('#')
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const ENTRY: &str = "- name: new\n  component: new.wasm\n  world: hook\n";

    #[test]
    fn appends_after_the_last_guest_keeping_everything_else() {
        let text = "# head\nmodule: {name: m, valuesKey: m}\nguests:\n  - name: a # first\n    component: a.wasm\n    world: hook\n\n  # a note on b\n  - name: b\n    component: b.wasm\n    world: job\n# tail comment\n";
        let out = append_guest(text, ENTRY).unwrap();
        assert_eq!(
            out,
            text.replace(
                "# tail comment\n",
                "  - name: new\n    component: new.wasm\n    world: hook\n# tail comment\n"
            )
        );
    }

    #[test]
    fn stops_at_the_next_top_level_key_and_follows_the_indentation() {
        let text = "guests:\n- name: a\n  component: a.wasm\n  world: hook\n\n# module comment\nmodule: {name: m, valuesKey: m}\n";
        let out = append_guest(text, ENTRY).unwrap();
        assert_eq!(
            out,
            "guests:\n- name: a\n  component: a.wasm\n  world: hook\n- name: new\n  component: new.wasm\n  world: hook\n\n# module comment\nmodule: {name: m, valuesKey: m}\n"
        );
        let no_newline = append_guest("guests:\n  - name: a", ENTRY).unwrap();
        assert!(no_newline.starts_with("guests:\n  - name: a\n  - name: new\n"));
    }

    #[test]
    fn an_inline_or_missing_list_is_refused() {
        assert!(
            append_guest("guests: []\n", ENTRY)
                .unwrap_err()
                .contains("inline")
        );
        assert!(
            append_guest("module: {}\n", ENTRY)
                .unwrap_err()
                .contains("no top-level")
        );
    }
}
