//! `az new-game NAME`: a new game crate under `games/NAME`, registered and passing
//! the conformance kit, starting from a small complete game (Nim) to replace.

use crate::error::BadInput;
use anyhow::{Context, Result};
use std::path::{Path, PathBuf};

/// Arguments of `az new-game`.
#[derive(Debug, clap::Args)]
pub struct NewGameArgs {
    /// Game name: lower case letters, digits and '-', starting with a letter.
    pub name: String,
    /// Workspace root (default: the nearest parent holding the az workspace).
    #[arg(long)]
    pub root: Option<PathBuf>,
}

const CARGO_MARKER: &str = "# az new-game inserts game crates above this line";
const REGISTRY_MARKER: &str = "// az new-game inserts games above this line";
const REGISTRY: &str = "crates/cli/src/games.rs";
const CLI_MANIFEST: &str = "crates/cli/Cargo.toml";

/// The files of a new game crate, relative to `games/NAME`.
const TEMPLATES: [(&str, &str); 4] = [
    (
        "Cargo.toml",
        include_str!("../../templates/game/Cargo.toml.in"),
    ),
    ("src/lib.rs", include_str!("../../templates/game/lib.rs.in")),
    (
        "tests/conformance.rs",
        include_str!("../../templates/game/conformance.rs.in"),
    ),
    (
        "tests/perft.txt",
        include_str!("../../templates/game/perft.txt.in"),
    ),
];

/// Type names the template uses for itself; a game may not be called so.
const RESERVED: [&str; 8] = [
    "Take",
    "Game",
    "Outcome",
    "Player",
    "Shape",
    "Symmetry",
    "MoveError",
    "ArrayVec",
];

/// The names a game NAME gets: crate `az-NAME`, module `az_NAME`, type `Name`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Names {
    /// As given, e.g. `my-game`.
    pub name: String,
    /// Rust module of the crate, e.g. `az_my_game`.
    pub module: String,
    /// The position type, e.g. `MyGame`.
    pub ty: String,
}

/// Checks `name` and derives the crate, module and type names.
///
/// # Errors
/// [`BadInput`] saying which characters are allowed.
pub fn names(name: &str) -> Result<Names, BadInput> {
    let ok = name.len() <= 40
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !name.ends_with('-')
        && !name.contains("--");
    if !ok {
        return Err(BadInput(format!(
            "game name {name:?} is not allowed: use 1 to 40 lower case letters, digits and \
             single '-' between them, starting with a letter (e.g. `hex` or `dots-and-boxes`)"
        )));
    }
    let ty: String = name
        .split('-')
        .map(|part| {
            let mut cs = part.chars();
            cs.next()
                .map(|c| c.to_ascii_uppercase().to_string() + cs.as_str())
                .unwrap_or_default()
        })
        .collect();
    if RESERVED.contains(&ty.as_str()) {
        return Err(BadInput(format!(
            "game name {name:?} would make a type `{ty}` that the template already uses; choose another"
        )));
    }
    Ok(Names {
        name: name.to_owned(),
        module: format!("az_{}", name.replace('-', "_")),
        ty,
    })
}

/// The nearest parent of `start` that holds the az workspace.
fn find_root(start: &Path) -> Option<PathBuf> {
    start
        .ancestors()
        .find(|d| d.join(REGISTRY).is_file())
        .map(Path::to_path_buf)
}

/// A file's text with `line` inserted before the line holding `marker`.
fn insert_before(text: &str, marker: &str, line: &str, file: &Path) -> Result<String> {
    let at = text
        .find(marker)
        .with_context(|| format!("{}: marker line {marker:?} not found", file.display()))?;
    let line_start = text[..at].rfind('\n').map_or(0, |i| i + 1);
    let indent = &text[line_start..at];
    Ok(format!(
        "{}{indent}{line}\n{}",
        &text[..line_start],
        &text[line_start..]
    ))
}

fn render(template: &str, n: &Names) -> String {
    template
        .replace("__NAME__", &n.name)
        .replace("__MODULE__", &n.module)
        .replace("__TYPE__", &n.ty)
}

/// Creates the crate and registers it; returns what to print.
///
/// # Errors
/// [`BadInput`] for a bad or taken name or no workspace found; I/O errors with the path.
pub fn run(args: &NewGameArgs) -> Result<String> {
    let n = names(&args.name)?;
    let root = match &args.root {
        Some(r) => r.clone(),
        None => {
            let cwd = std::env::current_dir().context("reading the current directory")?;
            find_root(&cwd).ok_or_else(|| {
                BadInput(format!(
                    "no az workspace (a folder with {REGISTRY}) above {}; run this in the az repository \
                     or pass --root",
                    cwd.display()
                ))
            })?
        }
    };
    if crate::games::names().contains(&n.name.as_str()) {
        return Err(BadInput(format!("a game called {:?} is already registered", n.name)).into());
    }
    let dir = root.join("games").join(&n.name);
    if dir.exists() {
        return Err(BadInput(format!("{} already exists", dir.display())).into());
    }

    // Compute every edit before writing anything, so a missing marker changes nothing.
    let edits = [
        (
            "Cargo.toml",
            CARGO_MARKER,
            format!(
                "az-{0} = {{ path = \"games/{0}\", version = \"0.1.0\" }}",
                n.name
            ),
        ),
        (
            CLI_MANIFEST,
            CARGO_MARKER,
            format!("az-{}.workspace = true", n.name),
        ),
        (
            REGISTRY,
            REGISTRY_MARKER,
            format!("{}::{},", n.module, n.ty),
        ),
    ];
    let mut new_texts = Vec::new();
    for (file, marker, line) in &edits {
        let path = root.join(file);
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("reading {}", path.display()))?;
        new_texts.push((path.clone(), insert_before(&text, marker, line, &path)?));
    }

    for (rel, template) in TEMPLATES {
        let path = dir.join(rel);
        let parent = path.parent().expect("template paths have a parent");
        std::fs::create_dir_all(parent)
            .with_context(|| format!("creating {}", parent.display()))?;
        std::fs::write(&path, render(template, &n))
            .with_context(|| format!("writing {}", path.display()))?;
    }
    for (path, text) in new_texts {
        std::fs::write(&path, text).with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(format!(
        "created games/{0} (crate az-{0}, type {1}::{2}) and registered it.\n\
         next: cargo test -p az-{0}   then   cargo run -p az-cli -- list\n\
         see docs/ADDING_A_GAME.md for replacing the Nim rules with your game's",
        n.name, n.module, n.ty
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_derived_and_checked() {
        let n = names("dots-and-boxes").unwrap();
        assert_eq!(
            (n.module.as_str(), n.ty.as_str()),
            ("az_dots_and_boxes", "DotsAndBoxes")
        );
        for bad in ["", "Foo", "1abc", "a--b", "a-", "a_b", "take"] {
            assert!(names(bad).is_err(), "{bad:?} should be refused");
        }
    }

    #[test]
    fn insertion_keeps_indent_and_order() {
        let text = "a\n    // az new-game inserts games above this line\n}\n";
        let out = insert_before(text, REGISTRY_MARKER, "x::X,", Path::new("f")).unwrap();
        assert_eq!(
            out,
            "a\n    x::X,\n    // az new-game inserts games above this line\n}\n"
        );
        assert!(insert_before("no marker", REGISTRY_MARKER, "x", Path::new("f")).is_err());
    }

    #[test]
    fn creates_and_registers_in_a_scratch_workspace() {
        let root = std::env::temp_dir().join(format!("az-new-game-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        std::fs::create_dir_all(root.join("crates/cli/src")).unwrap();
        std::fs::write(root.join("Cargo.toml"), format!("[w]\n{CARGO_MARKER}\n")).unwrap();
        std::fs::write(root.join(CLI_MANIFEST), format!("[d]\n{CARGO_MARKER}\n")).unwrap();
        std::fs::write(
            root.join(REGISTRY),
            format!("m! {{\n    {REGISTRY_MARKER}\n}}\n"),
        )
        .unwrap();
        let args = NewGameArgs {
            name: "foo".into(),
            root: Some(root.clone()),
        };
        run(&args).unwrap();
        let lib = std::fs::read_to_string(root.join("games/foo/src/lib.rs")).unwrap();
        assert!(lib.contains("pub struct Foo") && lib.contains("\"foo\"") && !lib.contains("__"));
        let reg = std::fs::read_to_string(root.join(REGISTRY)).unwrap();
        assert!(
            reg.contains("    az_foo::Foo,\n    // az new-game"),
            "{reg}"
        );
        assert!(
            std::fs::read_to_string(root.join("Cargo.toml"))
                .unwrap()
                .contains("az-foo = {")
        );
        // A second time it refuses and changes nothing.
        let before = std::fs::read_to_string(root.join(REGISTRY)).unwrap();
        assert!(
            run(&args)
                .unwrap_err()
                .to_string()
                .contains("already exists")
        );
        assert_eq!(
            std::fs::read_to_string(root.join(REGISTRY)).unwrap(),
            before
        );
        std::fs::remove_dir_all(&root).unwrap();
    }
}
