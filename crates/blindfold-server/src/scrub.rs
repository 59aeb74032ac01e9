//! What a client may read of an error: no server path (the work folder
//! names the process id) and no memory address (ffmpeg's log prefixes carry
//! heap addresses). Applied to every error body and to a video job's error.

use blindfold_video::ErrorKind;

/// `text` with absolute paths replaced by `[path]` and hex addresses
/// removed (`[h264 @ 0x55d0c0ffee00]` becomes `[h264]`).
pub fn public(text: &str) -> String {
    paths(&addresses(text))
}

/// A failed video's reason, for its job status.
pub fn video_error(kind: &ErrorKind) -> String {
    match kind {
        ErrorKind::File { what, source, .. } => {
            public(&format!("{what} the job's folder: {source}"))
        }
        ErrorKind::Stopped => "the service is stopping".into(),
        other => public(&other.to_string()),
    }
}

fn addresses(t: &str) -> String {
    let mut out = String::with_capacity(t.len());
    let mut rest = t;
    while let Some(i) = rest.find("0x") {
        let (head, after) = (&rest[..i], &rest[i + 2..]);
        let digits = after.bytes().take_while(u8::is_ascii_hexdigit).count();
        let word_start = head.chars().last().is_none_or(|c| !c.is_alphanumeric());
        if digits >= 4 && word_start {
            match head.strip_suffix(" @ ") {
                Some(h) => out.push_str(h),
                None => {
                    out.push_str(head);
                    out.push_str("[address]");
                }
            }
        } else {
            out.push_str(head);
            out.push_str("0x");
            out.push_str(&after[..digits]);
        }
        rest = &after[digits..];
    }
    out.push_str(rest);
    out
}

/// Replace tokens like `/a/b...` (two or more components, starting a word)
/// with `[path]`.
fn paths(t: &str) -> String {
    let mut out = String::with_capacity(t.len());
    let mut prev: Option<char> = None;
    let mut rest = t;
    while let Some(c) = rest.chars().next() {
        let at_start = prev.is_none_or(|p| p.is_whitespace() || "\"'`(=[<,".contains(p));
        if c == '/' && at_start {
            let len = path_len(rest);
            if rest[..len].matches('/').count() >= 2 {
                out.push_str("[path]");
                prev = Some(']');
                rest = &rest[len..];
                continue;
            }
        }
        out.push(c);
        prev = Some(c);
        rest = &rest[c.len_utf8()..];
    }
    out
}

/// Bytes of the path at the start of `s`: up to whitespace, a quote, a
/// closing bracket, a comma or semicolon, or a colon that ends a word.
fn path_len(s: &str) -> usize {
    let mut it = s.char_indices().peekable();
    while let Some((i, c)) = it.next() {
        let ends = c.is_whitespace()
            || "\"'`)]>,;".contains(c)
            || (c == ':' && it.peek().is_none_or(|(_, n)| n.is_whitespace()));
        if ends {
            return i;
        }
    }
    s.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_and_addresses_go_and_the_reason_stays() {
        let ffmpeg = "decoding failed: [h264 @ 0x55d4c3a8e0c0] error while decoding MB 3 1; \
                      /tmp/blindfold-serve/run-4242/0123abcd/input: Invalid data found";
        let p = public(ffmpeg);
        assert_eq!(
            p,
            "decoding failed: [h264] error while decoding MB 3 1; [path]: Invalid data found"
        );
        assert_eq!(
            public("cannot open '/srv/work/run-1/x/output.mp4' (0x7ffe12345678)"),
            "cannot open '[path]' ([address])"
        );
        assert_eq!(
            public("Content-Type \"text/plain\" is not image/*; codec tag 0x1f"),
            "Content-Type \"text/plain\" is not image/*; codec tag 0x1f"
        );
        assert_eq!(public("see /healthz"), "see /healthz");
        assert_eq!(public("in /a/b:"), "in [path]:");
        assert_eq!(public("ünïcode /x/y ok"), "ünïcode [path] ok");
    }

    #[test]
    fn a_file_error_names_no_path() {
        let e = ErrorKind::File {
            what: "cannot create a temp file in",
            path: "/var/tmp/blindfold-serve/run-77/abc".into(),
            source: std::io::Error::from(std::io::ErrorKind::PermissionDenied),
        };
        let m = video_error(&e);
        assert!(!m.contains("run-77") && m.contains("job's folder"), "{m}");
    }
}
