//! Opponents as written in manifests and on the command line.

use std::fmt;

/// An opponent: `random`, `perfect`, `mcts:N`, `previous` (the network at the
/// previous evaluation) or a checkpoint file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OpponentSpec {
    /// Uniformly random moves.
    Random,
    /// The game's oracle.
    Perfect,
    /// Rollout MCTS with this many simulations.
    Mcts(u32),
    /// The network as it was at the previous evaluation of the run.
    Previous,
    /// A checkpoint file.
    Checkpoint(String),
}

/// An opponent that cannot be parsed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error(
    "opponent {0:?} is not one of: random, perfect, mcts:N (N simulations, N >= 1), previous, or a \
     checkpoint path ending in .azck"
)]
pub struct SpecError(pub String);

impl OpponentSpec {
    /// Parses `random`, `perfect`, `mcts:N`, `previous`, or a path ending in `.azck`.
    ///
    /// # Errors
    /// [`SpecError`] listing what is allowed.
    pub fn parse(text: &str) -> Result<Self, SpecError> {
        let t = text.trim();
        Ok(match t {
            "random" => OpponentSpec::Random,
            "perfect" => OpponentSpec::Perfect,
            "previous" => OpponentSpec::Previous,
            _ => {
                if let Some(n) = t.strip_prefix("mcts:") {
                    match n.parse::<u32>() {
                        Ok(n) if n >= 1 => OpponentSpec::Mcts(n),
                        _ => return Err(SpecError(text.to_owned())),
                    }
                } else if t.ends_with(".azck") {
                    OpponentSpec::Checkpoint(t.to_owned())
                } else {
                    return Err(SpecError(text.to_owned()));
                }
            }
        })
    }
}

impl fmt::Display for OpponentSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OpponentSpec::Random => f.write_str("random"),
            OpponentSpec::Perfect => f.write_str("perfect"),
            OpponentSpec::Mcts(n) => write!(f, "mcts:{n}"),
            OpponentSpec::Previous => f.write_str("previous"),
            OpponentSpec::Checkpoint(p) => f.write_str(p),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_refusals() {
        for s in [
            "random",
            "perfect",
            "mcts:1000",
            "previous",
            "runs/x/step-1.azck",
        ] {
            assert_eq!(OpponentSpec::parse(s).unwrap().to_string(), s);
        }
        for s in ["", "mcts:", "mcts:0", "mcts:-3", "minimax", "foo.bin"] {
            let e = OpponentSpec::parse(s).unwrap_err().to_string();
            assert!(e.contains("mcts:N"), "{e}");
        }
    }
}
