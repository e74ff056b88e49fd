//! How much memory a decoded data set takes, and how much it may take.

/// The share of physical memory a decoded image set may take by default: a quarter. The budget
/// counts every value as an `f32` (4 bytes), what resampling, augmentation and a training
/// split's copies hold; decoded 8-bit images themselves are kept as bytes, a quarter of that,
/// on the host and on the device.
pub const DEFAULT_MEMORY_SHARE: f64 = 0.25;

/// Physical memory in bytes (`MemTotal` of `/proc/meminfo`); `None` where it cannot be read
/// (off Linux), and then no budget is enforced.
pub fn physical_memory() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    parse_mem_total(&text)
}

fn parse_mem_total(meminfo: &str) -> Option<u64> {
    let line = meminfo.lines().find(|l| l.starts_with("MemTotal:"))?;
    let kib: u64 = line
        .trim_start_matches("MemTotal:")
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    Some(kib * 1024)
}

/// The default budget of a decoded image set: [`DEFAULT_MEMORY_SHARE`] of physical memory,
/// `None` where physical memory is unknown.
pub fn default_budget() -> Option<u64> {
    physical_memory().map(|b| (b as f64 * DEFAULT_MEMORY_SHARE) as u64)
}

/// The budget in force: `budget` when given, else [`default_budget`]; `None`: no limit (physical
/// memory unknown).
pub fn resolve(budget: Option<u64>) -> Option<u64> {
    budget.or_else(default_budget)
}

/// Reads a memory size: a number of bytes with an optional unit, `512MB`, `1.5GB`, `800M`,
/// `4GiB`, `2048` (kB, MB, GB, TB are powers of 1000; KiB, MiB, GiB, TiB and the one-letter
/// K, M, G, T powers of 1024). Errors say what was expected.
pub fn parse_size(text: &str) -> Result<u64, String> {
    let t = text.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (number, unit) = t.split_at(split);
    let value: f64 = number
        .parse()
        .map_err(|_| format!("`{text}`: expected a size such as 512MB, 2GB or 4GiB"))?;
    let scale: f64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1.0,
        "kb" => 1e3,
        "mb" => 1e6,
        "gb" => 1e9,
        "tb" => 1e12,
        "k" | "kib" => 1024.0,
        "m" | "mib" => 1024.0 * 1024.0,
        "g" | "gib" => 1024.0 * 1024.0 * 1024.0,
        "t" | "tib" => 1024.0 * 1024.0 * 1024.0 * 1024.0,
        other => {
            return Err(format!(
                "`{text}`: unknown unit `{other}`; use B, kB, MB, GB, TB, KiB, MiB, GiB or TiB"
            ));
        }
    };
    let bytes = value * scale;
    if !(bytes.is_finite() && bytes >= 1.0 && bytes < u64::MAX as f64) {
        return Err(format!("`{text}`: the size must be at least 1 byte"));
    }
    Ok(bytes as u64)
}

/// Bytes of `n` samples of `len` values each, stored as `f32`.
pub fn f32_bytes(n: usize, len: usize) -> u64 {
    (n as u64)
        .saturating_mul(len as u64)
        .saturating_mul(std::mem::size_of::<f32>() as u64)
}

/// A byte count for people: `14.8 GB`, `512.0 MB`, `3.0 kB` (powers of 1000).
pub fn human_bytes(bytes: u64) -> String {
    let b = bytes as f64;
    if b >= 1e9 {
        format!("{:.1} GB", b / 1e9)
    } else if b >= 1e6 {
        format!("{:.1} MB", b / 1e6)
    } else if b >= 1e3 {
        format!("{:.1} kB", b / 1e3)
    } else {
        format!("{bytes} B")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_mem_total_and_formats_sizes() {
        let text = "MemTotal:       24522104 kB\nMemFree:         1000 kB\n";
        assert_eq!(parse_mem_total(text), Some(24_522_104 * 1024));
        assert_eq!(parse_mem_total("nothing"), None);
        assert_eq!(f32_bytes(3000, 3 * 630 * 630), 14_288_400_000);
        assert_eq!(human_bytes(14_288_400_000), "14.3 GB");
        assert_eq!(human_bytes(999), "999 B");
    }

    #[test]
    fn parses_sizes_with_units() {
        assert_eq!(parse_size("512MB"), Ok(512_000_000));
        assert_eq!(parse_size("1.5 GB"), Ok(1_500_000_000));
        assert_eq!(parse_size("4GiB"), Ok(4 << 30));
        assert_eq!(parse_size("800m"), Ok(800 << 20));
        assert_eq!(parse_size("2048"), Ok(2048));
        assert!(parse_size("lots").unwrap_err().contains("512MB"));
        assert!(
            parse_size("3 parsecs")
                .unwrap_err()
                .contains("unknown unit")
        );
        assert!(parse_size("0").unwrap_err().contains("at least 1 byte"));
    }
}
