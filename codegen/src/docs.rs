//! Documentation from the model: botocore's HTML made into short plain text for CRD
//! descriptions and doc comments.

/// Longest summary kept; longer first paragraphs are cut at a sentence end.
const MAX_SUMMARY: usize = 400;

/// The first paragraph of `html` as plain text, at most about [`MAX_SUMMARY`] characters.
pub fn summary(html: &str) -> String {
    let text = to_text(html);
    let first = text.lines().next().unwrap_or("").trim();
    shorten(without_list_intro(first))
}

/// Drops a closing sentence that only introduces a list left out (`… Note the following:`).
fn without_list_intro(paragraph: &str) -> &str {
    if !paragraph.ends_with(':') {
        return paragraph;
    }
    match paragraph.trim_end_matches(':').rfind(". ") {
        Some(end) => &paragraph[..=end],
        None => paragraph,
    }
}

/// The description of one item of an HTML list whose entries start with `<code>name</code>`
/// (how botocore documents SQS's queue attributes): `name – text` → `text`.
pub fn list_item(html: &str, name: &str) -> Option<String> {
    let text = to_text(html);
    text.lines().find_map(|line| {
        let rest = line.strip_prefix("- ")?.strip_prefix(name)?.trim_start();
        let rest = rest
            .strip_prefix('–')
            .or_else(|| rest.strip_prefix('-'))
            .or_else(|| rest.strip_prefix(':'))?;
        Some(shorten(without_list_intro(rest.trim())))
    })
}

/// Markers for breaks while tags are replaced; resolved once white space is collapsed.
const PARAGRAPH: char = '\u{1}';
const LINE: char = '\u{2}';
const ITEM: char = '\u{3}';

/// Plain text: one paragraph per line (blank lines between them), list items on lines starting
/// `- `, tags dropped, entities decoded, runs of white space collapsed.
fn to_text(html: &str) -> String {
    let mut marked = String::new();
    let mut rest = html;
    while let Some(open) = rest.find('<') {
        marked.push_str(&rest[..open]);
        let Some(close) = rest[open..].find('>') else {
            rest = &rest[open..];
            break;
        };
        let tag = rest[open + 1..open + close].trim().to_ascii_lowercase();
        let name = tag
            .trim_start_matches('/')
            .split(|c: char| c.is_whitespace() || c == '/')
            .next()
            .unwrap_or("");
        match name {
            "p" | "ul" | "ol" | "dl" | "dt" | "dd" | "note" | "important" => marked.push(PARAGRAPH),
            "li" if !tag.starts_with('/') => marked.push(ITEM),
            "li" | "br" => marked.push(LINE),
            _ => {}
        }
        rest = &rest[open + close + 1..];
    }
    marked.push_str(rest);
    resolve_breaks(&decode_entities(&marked))
}

/// Each run of white space and markers becomes the strongest break in it.
fn resolve_breaks(marked: &str) -> String {
    let mut out = String::new();
    let mut run: Option<&str> = None;
    for c in marked.chars() {
        let strength = match c {
            ITEM => Some("\n- "),
            PARAGRAPH => Some("\n\n"),
            LINE => Some("\n"),
            c if c.is_whitespace() => Some(" "),
            _ => None,
        };
        match strength {
            Some(s) => run = Some(stronger(run, s)),
            None => {
                if let Some(sep) = run.take()
                    && !out.is_empty()
                {
                    out.push_str(sep);
                }
                out.push(c);
            }
        }
    }
    out
}

fn stronger<'a>(a: Option<&'a str>, b: &'a str) -> &'a str {
    let rank = |s: &str| match s {
        "\n- " => 3,
        "\n\n" => 2,
        "\n" => 1,
        _ => 0,
    };
    match a {
        Some(a) if rank(a) >= rank(b) => a,
        _ => b,
    }
}

fn decode_entities(text: &str) -> String {
    text.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&apos;", "'")
        .replace("&nbsp;", " ")
        .replace("&amp;", "&")
}

/// Cuts at the last sentence end that fits, or failing that at a word, with an ellipsis.
fn shorten(text: &str) -> String {
    if text.chars().count() <= MAX_SUMMARY {
        return text.to_string();
    }
    let cut: String = text.chars().take(MAX_SUMMARY).collect();
    if let Some(end) = cut.rfind(". ")
        && end > MAX_SUMMARY / 3
    {
        return cut[..=end].to_string();
    }
    match cut.rfind(' ') {
        Some(space) => format!("{}…", &cut[..space]),
        None => cut,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_paragraph_as_text() {
        let html = "<p>The name of the <code>Bucket</code> &amp; its <a href=\"x\">rules</a>.</p> <p>More.</p>";
        assert_eq!(summary(html), "The name of the Bucket & its rules.");
    }

    #[test]
    fn list_introductions_are_dropped() {
        let html =
            "<p>The name of the queue. These limits apply:</p> <ul><li>80 characters</li></ul>";
        assert_eq!(summary(html), "The name of the queue.");
        assert_eq!(summary("<p>Valid values:</p>"), "Valid values:");
    }

    #[test]
    fn long_paragraphs_end_at_a_sentence() {
        let html = format!("<p>{}</p>", "A sentence that goes on. ".repeat(40));
        let s = summary(&html);
        assert!(s.len() <= MAX_SUMMARY && s.ends_with("on."), "{s}");
    }

    #[test]
    fn list_items_by_name() {
        let html = "<p>Attributes:</p> <ul> <li> <p> <code>DelaySeconds</code> – The delay, in seconds. </p> </li> <li> <p><code>Policy</code> – The policy.</p></li> </ul>";
        assert_eq!(
            list_item(html, "DelaySeconds").as_deref(),
            Some("The delay, in seconds.")
        );
        assert_eq!(list_item(html, "Policy").as_deref(), Some("The policy."));
        assert_eq!(list_item(html, "Missing"), None);
    }

    #[test]
    fn empty_and_plain() {
        assert_eq!(summary(""), "");
        assert_eq!(summary("plain text"), "plain text");
    }
}
