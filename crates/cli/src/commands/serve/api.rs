//! What the page asks and what it gets back, as JSON: the game's description,
//! a position (the board, the legal moves and where a click plays them, the
//! result), the agent's search on it (streamed as it runs), the run's numbers.

use super::run_view::RunView;
use super::weights::Weights;
use crate::commands::analyze::analysis_json;
use az_arena::Agent;
use az_game::{Board, Outcome, Player};
use az_mcts::{MoveResult, SearchConfig};
use serde_json::{Value, json};

/// Shared by every request.
#[derive(Debug)]
pub struct State {
    /// The network (followed in a running run).
    pub weights: Weights,
    /// The agent's search settings (no noise, no sampling).
    pub config: SearchConfig,
    /// The run's headline numbers.
    pub run: RunView,
}

/// Most simulations a request may ask for.
pub const MAX_SIMULATIONS: u32 = 100_000;

/// A request the server refuses: HTTP status and message.
#[derive(Debug)]
pub struct Refused(pub u16, pub String);

/// `GET /api/info`: the game and the agent.
pub fn info<G: Board>(state: &State) -> Value {
    let loaded = state.weights.current::<G>();
    let (rows, cols) = G::GRID;
    json!({
        "game": G::NAME, "experiment": state.weights.exp.name, "notation": G::NOTATION,
        "rows": rows, "cols": cols, "simulations": state.config.simulations,
        "checkpoint": loaded.checkpoint.display().to_string(), "step": loaded.step,
        "max_simulations": MAX_SIMULATIONS,
    })
}

/// `GET /api/run`: the run's headline numbers and the step being played.
pub fn run<G: Board>(state: &State) -> Value {
    let loaded = state.weights.current::<G>();
    let mut v = state.run.headline(&state.weights.run_dir);
    v["playing_step"] = json!(loaded.step);
    v
}

/// The request body: `{"moves": ["a1", "b2"], "simulations": 64}` (the
/// simulations only for a search; the run's by default).
pub struct Request<G> {
    /// The position after the moves.
    pub position: G,
    /// The moves as sent.
    pub moves: Vec<String>,
    /// The cell of the last move, if it has one.
    pub last_cell: Option<usize>,
    /// Simulations asked for.
    pub simulations: Option<u32>,
}

/// Reads a request body.
///
/// # Errors
/// [`Refused`] (400) naming what is wrong: not JSON, no `moves` list, an
/// illegal or unreadable move (its index, text and the legal moves), bad
/// `simulations`.
pub fn request<G: Board>(body: &[u8]) -> Result<Request<G>, Refused> {
    let bad = |m: String| Refused(400, m);
    let v: Value =
        serde_json::from_slice(body).map_err(|e| bad(format!("the body is not JSON: {e}")))?;
    let list = v["moves"].as_array().ok_or_else(|| {
        bad(
            "the body needs \"moves\": a list of moves in the game's notation (may be empty)"
                .to_owned(),
        )
    })?;
    let mut position = G::new();
    let mut moves = Vec::with_capacity(list.len());
    let mut last_cell = None;
    for (i, m) in list.iter().enumerate() {
        let text = m
            .as_str()
            .ok_or_else(|| bad(format!("moves[{i}]: {m} is not a string")))?;
        if position.is_terminal() {
            return Err(bad(format!(
                "moves[{i}] {text:?}: the game is already over"
            )));
        }
        let mv = position
            .parse_move(text)
            .map_err(|e| bad(format!("moves[{i}]: {e}")))?;
        last_cell = position.move_cell(mv);
        position.apply_unchecked(mv);
        moves.push(text.to_owned());
    }
    let simulations = match &v["simulations"] {
        Value::Null => None,
        s => Some(
            s.as_u64()
                .and_then(|n| u32::try_from(n).ok())
                .filter(|n| (1..=MAX_SIMULATIONS).contains(n))
                .ok_or_else(|| {
                    bad(format!(
                        "simulations: {s} is not a whole number in 1..={MAX_SIMULATIONS}"
                    ))
                })?,
        ),
    };
    Ok(Request {
        position,
        moves,
        last_cell,
        simulations,
    })
}

/// `POST /api/position`: the board, whose move it is, the legal moves and the
/// move a click on each cell plays, the result when the game is over.
pub fn position<G: Board>(r: &Request<G>) -> Value {
    let p = &r.position;
    let legal: Vec<Value> = p
        .legal_moves()
        .iter()
        .map(|&mv| json!({"move": p.format_move(mv), "cell": p.move_cell(mv)}))
        .collect();
    let (rows, cols) = G::GRID;
    let clicks: Vec<Value> = (0..rows * cols)
        .map(|c| {
            p.cell_move(c)
                .map_or(Value::Null, |mv| json!(p.format_move(mv)))
        })
        .collect();
    let pieces: Vec<&str> = p.pieces().iter().map(|x| x.name()).collect();
    let outcome = p.outcome().map(|o| match o {
        Outcome::Win(w) => player(w),
        Outcome::Draw => "draw",
    });
    json!({
        "moves": r.moves, "ply": p.ply(), "to_move": player(p.to_move()),
        "rows": rows, "cols": cols, "pieces": pieces, "last_cell": r.last_cell,
        "legal": legal, "clicks": clicks,
        "off_board": p.off_board_move().map(|mv| p.format_move(mv)),
        "outcome": outcome,
    })
}

fn player(p: Player) -> &'static str {
    match p {
        Player::First => "first",
        Player::Second => "second",
    }
}

/// Refuses a search of a finished game.
///
/// # Errors
/// [`Refused`] (400) when the game is over.
pub fn searchable<G: Board>(r: &Request<G>) -> Result<(), Refused> {
    if r.position.is_terminal() {
        return Err(Refused(
            400,
            "the game is over: nothing to search".to_owned(),
        ));
    }
    Ok(())
}

/// `POST /api/search`: the agent's search on the request's position, with
/// `line` called on each snapshot (about 8 along the way, then the last with
/// `"done": true`); `line` returns false when the client has gone.
///
/// # Errors
/// [`Refused`] (400) for a finished game, (503) if the network failed.
pub fn search<G: Board>(
    state: &State,
    r: &Request<G>,
    mut line: impl FnMut(&Value) -> bool,
) -> Result<(), Refused> {
    searchable(r)?;
    let loaded = state.weights.current::<G>();
    let mut config = state.config.clone();
    config.simulations = r.simulations.unwrap_or(config.simulations);
    let total = config.simulations;
    let mut agent = Agent::with_model(az_run::NetModel(loaded.net), config);
    let p = &r.position;
    agent
        .analyze_in_steps(p, 8, |result, done| {
            line(&snapshot(p, result, total, done, loaded.step))
        })
        .map_err(|e| Refused(503, format!("the network stopped: {e}")))?;
    Ok(())
}

/// One snapshot: `az analyze --json`'s object, with the cell of each move and
/// of the principal variation's first move, the simulations so far and the
/// step of the weights.
fn snapshot<G: Board>(
    p: &G,
    result: &MoveResult<G::Move>,
    total: u32,
    done: bool,
    step: u64,
) -> Value {
    let mut v = analysis_json("", p, result);
    if let Some(o) = v.as_object_mut() {
        o.remove("position");
    }
    if let Some(moves) = v["moves"].as_array_mut() {
        for (m, stat) in moves.iter_mut().zip(&result.moves) {
            m["cell"] = json!(p.move_cell(stat.mv));
        }
    }
    v["best_cell"] = json!(result.chosen.and_then(|mv| p.move_cell(mv)));
    v["simulations"] = json!(result.moves.iter().map(|m| m.visits).sum::<u32>());
    v["total"] = json!(total);
    v["done"] = json!(done);
    v["step"] = json!(step);
    v
}
