//! Generated files on disk: writing them, and telling how the checked-in ones differ from what
//! the generator makes now.

use std::collections::BTreeSet;
use std::fmt;
use std::fs;
use std::path::Path;

use crate::Error;
use crate::emit::GENERATED_HEADER;

/// Lines of context around a change in a diff.
const CONTEXT: usize = 3;
/// Diff lines shown per file before eliding the rest.
const MAX_DIFF_LINES: usize = 40;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GeneratedFile {
    /// Relative to the repository root, `/`-separated.
    pub path: String,
    pub contents: String,
}

impl GeneratedFile {
    pub fn new(path: impl Into<String>, contents: String) -> Self {
        Self {
            path: path.into(),
            contents,
        }
    }
}

/// How one checked-in file differs from the generator's output.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Drift {
    Missing {
        path: String,
    },
    Changed {
        path: String,
        diff: String,
    },
    /// A generated file the generator no longer makes.
    Extra {
        path: String,
    },
}

impl fmt::Display for Drift {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Drift::Missing { path } => write!(f, "{path}: missing"),
            Drift::Changed { path, diff } => write!(f, "{path}: differs\n{diff}"),
            Drift::Extra { path } => write!(f, "{path}: no longer generated"),
        }
    }
}

/// Compares `files` with the repository; empty when everything is up to date.
pub fn drift(root: &Path, files: &[GeneratedFile]) -> Result<Vec<Drift>, Error> {
    let mut drift = Vec::new();
    for file in files {
        let path = root.join(&file.path);
        match fs::read_to_string(&path) {
            Ok(on_disk) if on_disk == file.contents => {}
            Ok(on_disk) => drift.push(Drift::Changed {
                path: file.path.clone(),
                diff: diff(&on_disk, &file.contents),
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => drift.push(Drift::Missing {
                path: file.path.clone(),
            }),
            Err(e) => return Err(Error::io(path, e)),
        }
    }
    drift.extend(
        extra_files(root, files)?
            .into_iter()
            .map(|path| Drift::Extra { path }),
    );
    Ok(drift)
}

/// What [`write`] did to one file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Written {
    Updated(String),
    Removed(String),
}

impl fmt::Display for Written {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Written::Updated(path) => write!(f, "wrote {path}"),
            Written::Removed(path) => write!(f, "removed {path}"),
        }
    }
}

/// Writes files whose contents changed and removes generated files no longer made.
pub fn write(root: &Path, files: &[GeneratedFile]) -> Result<Vec<Written>, Error> {
    let mut touched = Vec::new();
    for file in files {
        let path = root.join(&file.path);
        if fs::read_to_string(&path).ok().as_deref() == Some(file.contents.as_str()) {
            continue;
        }
        if let Some(dir) = path.parent() {
            fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        }
        fs::write(&path, &file.contents).map_err(|e| Error::io(&path, e))?;
        touched.push(Written::Updated(file.path.clone()));
    }
    for extra in extra_files(root, files)? {
        let path = root.join(&extra);
        fs::remove_file(&path).map_err(|e| Error::io(&path, e))?;
        touched.push(Written::Removed(extra));
    }
    Ok(touched)
}

/// Files carrying the generated header in the directories the generator writes to, that it did
/// not make this time. Hand-written files never carry the header, so they are never touched.
fn extra_files(root: &Path, files: &[GeneratedFile]) -> Result<Vec<String>, Error> {
    let made: BTreeSet<&str> = files.iter().map(|f| f.path.as_str()).collect();
    let dirs: BTreeSet<&str> = files
        .iter()
        .map(|f| f.path.rsplit_once('/').map_or("", |(dir, _)| dir))
        .collect();
    let mut extra = Vec::new();
    for dir in dirs {
        let Ok(entries) = fs::read_dir(root.join(dir)) else {
            continue;
        };
        for entry in entries {
            let entry = entry.map_err(|e| Error::io(root.join(dir), e))?;
            let name = entry.file_name().to_string_lossy().into_owned();
            let relative = if dir.is_empty() {
                name
            } else {
                format!("{dir}/{name}")
            };
            if made.contains(relative.as_str()) || !entry.path().is_file() {
                continue;
            }
            let first_line = fs::read_to_string(entry.path())
                .ok()
                .and_then(|text| text.lines().next().map(str::to_string))
                .unwrap_or_default();
            if first_line.contains(GENERATED_HEADER) {
                extra.push(relative);
            }
        }
    }
    extra.sort();
    Ok(extra)
}

/// A unified-style diff of the first changed region: the lines between the common prefix and
/// the common suffix, with context, cut after [`MAX_DIFF_LINES`].
pub fn diff(old: &str, new: &str) -> String {
    diff_at_most(old, new, MAX_DIFF_LINES)
}

/// [`diff`], cut after `max_lines` lines.
pub fn diff_at_most(old: &str, new: &str, max_lines: usize) -> String {
    let old: Vec<&str> = old.lines().collect();
    let new: Vec<&str> = new.lines().collect();
    let prefix = old.iter().zip(&new).take_while(|(a, b)| a == b).count();
    let suffix = old[prefix..]
        .iter()
        .rev()
        .zip(new[prefix..].iter().rev())
        .take_while(|(a, b)| a == b)
        .count();
    let start = prefix.saturating_sub(CONTEXT);
    let old_end = old.len() - suffix;
    let new_end = new.len() - suffix;
    let context_end = (old_end + CONTEXT).min(old.len());

    let mut lines = vec![format!(
        "@@ -{},{} +{},{} @@",
        start + 1,
        context_end - start,
        start + 1,
        (new_end + (context_end - old_end)) - start
    )];
    lines.extend(old[start..prefix].iter().map(|l| format!(" {l}")));
    lines.extend(old[prefix..old_end].iter().map(|l| format!("-{l}")));
    lines.extend(new[prefix..new_end].iter().map(|l| format!("+{l}")));
    lines.extend(old[old_end..context_end].iter().map(|l| format!(" {l}")));
    if lines.len() > max_lines {
        let hidden = lines.len() - max_lines;
        lines.truncate(max_lines);
        lines.push(format!("… {hidden} more diff lines"));
    }
    lines.join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn diff_shows_the_changed_region_with_context() {
        let old = "a\nb\nc\nd\ne\nf\ng\nh\n";
        let new = "a\nb\nc\nd\nE\nf\ng\nh\n";
        assert_eq!(
            diff(old, new),
            "@@ -2,7 +2,7 @@\n b\n c\n d\n-e\n+E\n f\n g\n h"
        );
    }

    #[test]
    fn diff_of_an_insertion() {
        assert_eq!(diff("a\nb\n", "a\nx\nb\n"), "@@ -1,2 +1,3 @@\n a\n+x\n b");
    }

    #[test]
    fn long_diffs_are_cut() {
        let new: String = (0..100).map(|i| format!("{i}\n")).collect();
        let d = diff("", &new);
        assert_eq!(d.lines().count(), MAX_DIFF_LINES + 1);
        assert!(d.ends_with("… 61 more diff lines"), "{d}");
    }
}
