//! Reading lines of moves in a game's own notation.

use crate::{Game, MoveError, PositionError};

/// Characters allowed between moves of a line.
fn is_separator(c: char) -> bool {
    c.is_whitespace() || c == ','
}

/// Parses one move that must fill `text` and be legal in `position`.
pub(crate) fn parse_one<G: Game>(position: &G, text: &str) -> Result<G::Move, MoveError> {
    let text = text.trim();
    let (mv, used) = position
        .parse_move_prefix(text)
        .map_err(|e| whole_text(e, text))?;
    if used != text.len() {
        return Err(MoveError::Parse {
            text: text.to_owned(),
            expected: G::NOTATION,
        });
    }
    check_legal(position, mv, text)?;
    Ok(mv)
}

/// A parse error that names all of `text` (a game reports only the characters
/// it looked at: `"he"` of `hello`).
fn whole_text(e: MoveError, text: &str) -> MoveError {
    match e {
        MoveError::Parse { expected, .. } => MoveError::Parse {
            text: text.to_owned(),
            expected,
        },
        other => other,
    }
}

fn check_legal<G: Game>(position: &G, mv: G::Move, text: &str) -> Result<(), MoveError> {
    if let Some(outcome) = position.outcome() {
        return Err(MoveError::GameOver {
            mv: text.to_owned(),
            outcome,
        });
    }
    if position.is_legal(mv) {
        return Ok(());
    }
    let legal: Vec<String> = position
        .legal_moves()
        .iter()
        .map(|&m| position.format_move(m))
        .collect();
    Err(MoveError::Illegal {
        mv: text.to_owned(),
        legal: legal.join(" "),
    })
}

/// Plays a line of moves from `position`.
pub(crate) fn play_line<G: Game>(mut position: G, line: &str) -> Result<G, PositionError> {
    let mut rest = line.trim_start_matches(is_separator);
    let mut number = 0;
    while !rest.is_empty() {
        number += 1;
        let fail = |text: &str, source| PositionError {
            line: line.to_owned(),
            number,
            text: text.to_owned(),
            source,
        };
        let (mv, used) = position.parse_move_prefix(rest).map_err(|e| {
            let token = rest.split(is_separator).next().unwrap_or(rest);
            fail(token, whole_text(e, token))
        })?;
        let text = &rest[..used];
        check_legal(&position, mv, text).map_err(|e| fail(text, e))?;
        position.apply_unchecked(mv);
        rest = rest[used..].trim_start_matches(is_separator);
    }
    Ok(position)
}
