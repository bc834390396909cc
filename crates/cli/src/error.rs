/// Bad input from the user (an unknown name, a malformed argument, an illegal
/// move): the binary prints it and exits with code 2, not 1.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct BadInput(pub String);

/// Exit code for bad input.
pub const EXIT_BAD_INPUT: u8 = 2;
/// Exit code for any other failure.
pub const EXIT_FAILURE: u8 = 1;

/// The exit code for `err`: [`EXIT_BAD_INPUT`] when a [`BadInput`] is in its chain.
pub fn exit_code(err: &anyhow::Error) -> u8 {
    if err.chain().any(|e| {
        e.is::<BadInput>()
            || e.is::<az_experiment::ManifestError>()
            || matches!(
                e.downcast_ref::<az_replay::ReplayError>(),
                Some(az_replay::ReplayError::Corrupt { .. })
            )
            || matches!(
                e.downcast_ref::<az_train::CheckpointError>(),
                Some(
                    az_train::CheckpointError::Corrupt { .. }
                        | az_train::CheckpointError::Mismatch { .. }
                )
            )
    }) {
        EXIT_BAD_INPUT
    } else {
        EXIT_FAILURE
    }
}
