//! The compute devices and their self-test (`dialect devices`).

use dialect::device::DeviceInfo;
use dialect::device_check::DeviceCheck;

/// One line per device: usable (name, memory, precision) or why not.
pub fn print_devices(devices: &[DeviceInfo]) {
    for d in devices {
        let choice = format!("{:?}", d.choice).to_lowercase();
        match &d.note {
            None => {
                let mut line = format!("{choice:<6} available");
                if let Some(name) = &d.name {
                    line += &format!(": {name}");
                }
                let gib = |bytes: u64| bytes as f64 / (1u64 << 30) as f64;
                if let Some(total) = d.memory_bytes {
                    line += &format!(", {:.1} GiB", gib(total));
                    if let Some(free) = d.free_bytes {
                        line += &format!(" ({:.1} GiB free)", gib(free));
                    }
                }
                line += if d.bf16 {
                    ", bf16 mixed precision"
                } else {
                    ", f32"
                };
                println!("{line}");
            }
            Some(note) => println!("{choice:<6} unavailable: {note}"),
        }
    }
}

/// Each self-test's verdict and its items.
pub fn print_checks(checks: &[DeviceCheck]) {
    for c in checks {
        let verdict = if c.passed() { "passed" } else { "FAILED" };
        println!("\ncheck {} {}: {verdict}", c.device, c.precision);
        for item in &c.items {
            let mark = if item.passed { "ok  " } else { "FAIL" };
            println!("  {mark} {:<26} {}", item.name, item.detail);
        }
    }
}
