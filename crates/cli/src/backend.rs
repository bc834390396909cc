//! The one place a Burn backend is chosen: the manifest's `model.device`,
//! among the backends this binary was built with (cargo features `flex`, `cuda`).

use crate::error::BadInput;
use az_experiment::{DeviceSpec, Experiment};
use burn::tensor::Device;

/// The Burn device for `spec`.
///
/// # Errors
/// [`BadInput`] if this binary was built without that backend, saying how to get it.
pub fn device(spec: DeviceSpec) -> Result<Device, BadInput> {
    match spec {
        DeviceSpec::Cpu => cpu(),
        DeviceSpec::Cuda => cuda(),
    }
}

#[cfg(feature = "flex")]
fn cpu() -> Result<Device, BadInput> {
    Ok(Device::flex())
}

#[cfg(not(feature = "flex"))]
fn cpu() -> Result<Device, BadInput> {
    Err(BadInput(
        "model.device = \"cpu\" needs the flex backend: build az with --features flex (a default)"
            .to_owned(),
    ))
}

#[cfg(feature = "cuda")]
fn cuda() -> Result<Device, BadInput> {
    Ok(Device::cuda(0))
}

#[cfg(not(feature = "cuda"))]
fn cuda() -> Result<Device, BadInput> {
    Err(BadInput(
        "model.device = \"cuda\" needs az built with CUDA: cargo run --release -p az-cli --features cuda -- ... \
         (or --set model.device=cpu)"
            .to_owned(),
    ))
}

/// Loads an experiment (name or path, with `--set` overrides) and its device.
///
/// # Errors
/// [`BadInput`] for a missing or invalid manifest or a backend this binary lacks.
pub fn load_with_device(
    name: &str,
    overrides: &[String],
) -> Result<(Experiment, Device), BadInput> {
    let exp = crate::experiments::load(name, overrides)?;
    let device = device(exp.manifest.model.device)?;
    Ok((exp, device))
}
