//! `backprop serve`: answer predictions over HTTP (see the `backprop-serve` crate).

use std::path::Path;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use backprop_data::Model;
use backprop_serve::{serve, BatchConfig, Config};

use crate::cli::{LogLevel, ServeArgs};

/// Loads the models, then serves them until SIGTERM or Ctrl-C.
pub fn run(args: &ServeArgs) -> anyhow::Result<ExitCode> {
    let started = Instant::now();
    let mut models: Vec<(String, Model)> = Vec::new();
    for spec in &args.models {
        let (name, path) = name_and_path(spec)?;
        if models.iter().any(|(n, _)| *n == name) {
            bail!("two models are named \"{name}\": name them with NAME=PATH");
        }
        let model = Model::load(Path::new(path))?;
        models.push((name, model));
    }
    if args.max_batch == 0 {
        bail!("--max-batch 0: a batch needs at least one row");
    }
    let threads = match args.threads {
        Some(0) => bail!("--threads 0: give at least one compute thread"),
        Some(n) => n,
        None => std::thread::available_parallelism().map_or(1, |n| n.get()),
    };
    let config = Config {
        host: args.host.clone(),
        port: args.port,
        batch: BatchConfig {
            max_batch: args.max_batch,
            max_wait: Duration::from_micros(args.max_wait_us),
            threads,
        },
        max_body: parse_size(&args.max_body)?,
        log: args.log == LogLevel::Info,
        strict: args.strict,
    };
    let names: Vec<&str> = models.iter().map(|(n, _)| n.as_str()).collect();
    let names = names.join(", ");
    serve(models, &config, |addr| {
        eprintln!(
            "serving {names} on http://{addr} ({threads} compute thread(s) per model, ready in {} ms)",
            started.elapsed().as_millis()
        );
    })
    .with_context(|| format!("cannot serve on {}:{}", args.host, args.port))?;
    eprintln!("stopped");
    Ok(ExitCode::SUCCESS)
}

/// `NAME=PATH`, or `PATH` named by its file stem.
fn name_and_path(spec: &str) -> anyhow::Result<(String, &str)> {
    if let Some((name, path)) = spec.split_once('=') {
        if name.is_empty() || name.contains(['/', ':', '?', '#', ' ']) {
            bail!("{spec}: a model name must be non-empty, without / : ? # or spaces");
        }
        return Ok((name.to_string(), path));
    }
    let stem = Path::new(spec)
        .file_stem()
        .and_then(|s| s.to_str())
        .with_context(|| format!("{spec}: cannot name the model after this path; use NAME=PATH"))?;
    Ok((stem.to_string(), spec))
}

/// `16MiB`, `512KiB`, `1GB`, `1000`: a size in bytes.
fn parse_size(text: &str) -> anyhow::Result<usize> {
    let trimmed = text.trim();
    let split = trimmed
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(trimmed.len());
    let (digits, unit) = trimmed.split_at(split);
    let scale: usize = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kb" => 1000,
        "kib" => 1 << 10,
        "m" | "mb" => 1_000_000,
        "mib" => 1 << 20,
        "g" | "gb" => 1_000_000_000,
        "gib" => 1 << 30,
        _ => bail!("--max-body {text}: expected a size such as 16MiB, 512KiB or 1000000"),
    };
    digits
        .parse::<usize>()
        .ok()
        .and_then(|n| n.checked_mul(scale))
        .filter(|&n| n > 0)
        .with_context(|| format!("--max-body {text}: expected a positive size such as 16MiB"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_and_names_parse() {
        assert_eq!(parse_size("16MiB").unwrap(), 16 << 20);
        assert_eq!(parse_size("1000").unwrap(), 1000);
        assert_eq!(parse_size("2 kb").unwrap(), 2000);
        assert!(parse_size("lots").is_err());
        assert!(parse_size("0").is_err());
        assert_eq!(name_and_path("a/b/iris.safetensors").unwrap().0, "iris");
        assert_eq!(
            name_and_path("x=a/b/iris.safetensors").unwrap(),
            ("x".into(), "a/b/iris.safetensors")
        );
        assert!(name_and_path("a b=m.safetensors").is_err());
    }
}
