/// Bad input from the user (an unknown name, a malformed argument, an illegal
/// move): the binary prints it and exits with code 2, not 1.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct BadInput(pub String);

/// Exit code for bad input.
pub const EXIT_BAD_INPUT: u8 = 2;
/// Exit code for any other failure.
pub const EXIT_FAILURE: u8 = 1;

/// The exit code for `err`: [`EXIT_BAD_INPUT`] when its chain holds a
/// [`BadInput`], a [`ManifestError`](az_experiment::ManifestError), or a
/// [`RunError`](az_run::RunError) that is bad input (a run directory in use or not
/// a run, a damaged or mismatched checkpoint or replay chunk).
pub fn exit_code(err: &anyhow::Error) -> u8 {
    let bad_input = |e: &(dyn std::error::Error + 'static)| {
        e.is::<BadInput>()
            || e.is::<az_experiment::ManifestError>()
            || e.downcast_ref::<az_run::RunError>()
                .is_some_and(az_run::RunError::is_bad_input)
    };
    if err.chain().any(bad_input) {
        EXIT_BAD_INPUT
    } else {
        EXIT_FAILURE
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use az_run::RunError;
    use std::path::PathBuf;

    #[test]
    fn run_errors_that_are_bad_input_exit_2() {
        let in_use = RunError::RunDirInUse {
            path: PathBuf::from("runs/x"),
        };
        assert_eq!(exit_code(&in_use.into()), EXIT_BAD_INPUT);
        let damaged = RunError::Replay(az_replay::ReplayError::Corrupt {
            path: PathBuf::from("runs/x/replay/chunk-0000000000.azr"),
            reason: "checksum mismatch".to_owned(),
        });
        let err = anyhow::Error::from(damaged).context("run runs/x");
        assert_eq!(exit_code(&err), EXIT_BAD_INPUT);
        let stopped = RunError::SelfPlay("self-play stopped unexpectedly".to_owned());
        assert_eq!(exit_code(&stopped.into()), EXIT_FAILURE);
        let nan = RunError::Train(az_train::TrainError::NonFinite {
            step: 3,
            policy: f32::NAN,
            value: 0.0,
            ownership: None,
        });
        assert_eq!(exit_code(&nan.into()), EXIT_FAILURE);
        assert_eq!(exit_code(&BadInput("x".to_owned()).into()), EXIT_BAD_INPUT);
    }
}
