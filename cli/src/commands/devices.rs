//! `dialect devices`: the compute devices, and optionally their self-test.

use crate::args::DevicesArgs;
use crate::render::devices::{print_checks, print_devices};
use dialect::device::available_devices;
use dialect::device_check::{check_device, DeviceCheck};
use dialect::{DeviceChoice, EngineError};
use std::process::ExitCode;

/// List the devices; with `--check`, self-test them and fail if any check fails.
pub fn run(args: DevicesArgs) -> Result<ExitCode, EngineError> {
    let devices = available_devices();
    let checks = if args.check {
        // The CPU is the reference; without a GPU it checks itself.
        let gpus: Vec<DeviceChoice> = devices
            .iter()
            .filter(|d| d.available && d.choice != DeviceChoice::Cpu)
            .map(|d| d.choice)
            .collect();
        let targets = if gpus.is_empty() {
            vec![DeviceChoice::Cpu]
        } else {
            gpus
        };
        let mut all = Vec::new();
        for choice in targets {
            all.extend(check_device(choice)?);
        }
        all
    } else {
        Vec::new()
    };
    let passed = checks.iter().all(DeviceCheck::passed);
    if args.json {
        let out = if args.check {
            serde_json::json!({ "devices": devices, "checks": checks })
        } else {
            serde_json::to_value(&devices)?
        };
        println!("{}", serde_json::to_string_pretty(&out)?);
    } else {
        print_devices(&devices);
        print_checks(&checks);
    }
    Ok(if passed {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
