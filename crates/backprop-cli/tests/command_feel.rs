//! The command as a user meets it: bare `backprop`, examples in `--help`, shell completions,
//! man pages, `config --example` read back by `--config`, activation names, and colour.

mod common;

use std::process::Command;

use common::Dir;

#[test]
fn bare_backprop_prints_a_short_usage_and_exits_0() {
    let dir = Dir::new();
    let out = dir.ok(&[]);
    assert!(
        out.contains("Common commands:") && out.contains("train"),
        "{out}"
    );
    assert!(out.lines().count() < 25, "short: {out}");
    let all = dir.ok(&["help"]);
    for command in ["completions", "man", "config", "gradcheck", "export"] {
        assert!(all.contains(command), "{command} in backprop help: {all}");
    }
}

#[test]
fn every_command_help_ends_with_examples() {
    let dir = Dir::new();
    let commands = [
        "train",
        "cv",
        "tune",
        "eval",
        "predict",
        "serve",
        "studio",
        "inspect",
        "export",
        "gradcheck",
        "datasets",
        "completions",
        "man",
        "config",
    ];
    for command in commands {
        let help = dir.ok(&[command, "--help"]);
        let examples = help
            .rsplit_once("Examples:\n")
            .unwrap_or_else(|| panic!("{command} --help has no examples: {help}"))
            .1;
        let count = examples.lines().filter(|l| l.starts_with("  ")).count();
        assert!((2..=4).contains(&count), "{command}: {count} examples");
    }
}

#[test]
fn completions_for_every_shell_and_bash_sources_cleanly() {
    let dir = Dir::new();
    for shell in ["bash", "zsh", "fish", "powershell", "elvish"] {
        let script = dir.ok(&["completions", shell]);
        assert!(
            script.contains("backprop") && script.contains("train"),
            "{shell}"
        );
    }
    let script = dir.write("backprop.bash", &dir.ok(&["completions", "bash"]));
    let out = Command::new("bash")
        .arg("-c")
        .arg(format!(
            "source {} && complete -p backprop",
            script.display()
        ))
        .output()
        .expect("run bash");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success() && stderr.is_empty(), "{stderr}");
    assert!(String::from_utf8_lossy(&out.stdout).contains("backprop"));
    dir.fails(&["completions", "tcsh"]);
}

#[test]
fn man_pages_render() {
    let dir = Dir::new();
    if Command::new("man").arg("--version").output().is_err() {
        eprintln!("skipped: no `man` here (apt-get install man-db)");
        return;
    }
    for (args, name) in [
        (vec!["man"], "backprop"),
        (vec!["man", "train"], "backprop-train"),
    ] {
        dir.write("page.1", &dir.ok(&args));
        let out = Command::new("man")
            .args(["-l", "page.1"])
            .env("MANPAGER", "cat")
            .env("MANWIDTH", "100")
            .current_dir(dir.root())
            .output()
            .expect("run man");
        let page = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(page.contains("NAME") && page.contains(name), "{page}");
    }
    let err = dir.fails(&["man", "trian"]);
    assert!(err.contains("trian") && err.contains("train"), "{err}");
}

#[test]
fn the_config_example_is_accepted_by_config_with_lists() {
    let dir = Dir::new();
    let example = dir.ok(&["config", "--example"]);
    assert!(example.contains("layers = [256, 128]"), "{example}");
    dir.write("settings.toml", &example);
    dir.write(
        "data.csv",
        "a,b,y\n0,1,0\n1,0,1\n0,0,0\n1,1,1\n0.5,0.2,0\n0.9,0.8,1\n0.1,0.3,0\n0.7,0.9,1\n",
    );
    dir.ok(&[
        "train",
        "data.csv",
        "--config",
        "settings.toml",
        "--epochs",
        "1",
    ]);
    dir.write("list.toml", "layers = [4, 3]\nepochs = 1\n");
    let out = dir.ok(&["train", "data.csv", "--config", "list.toml", "--json"]);
    assert!(!out.is_empty());
    let model = dir.ok(&["inspect", "model.safetensors"]);
    assert!(model.contains('4') && model.contains('3'), "{model}");
}

#[test]
fn documented_activations_pass_and_others_are_refused_with_the_list() {
    let dir = Dir::new();
    let help = dir.ok(&["train", "--help"]);
    let names = [
        "relu",
        "tanh",
        "sigmoid",
        "leaky_relu",
        "elu",
        "gelu",
        "silu",
        "softplus",
        "identity",
    ];
    for name in names {
        assert!(help.contains(name), "{name} documented");
        dir.ok(&["gradcheck", "--activation", name]);
    }
    dir.ok(&["gradcheck", "--activation", "leaky_relu(0.2)"]);
    for bad in ["swish", "linear", "logistic", "bogus"] {
        let err = dir.fails(&["gradcheck", "--activation", bad]);
        assert!(
            err.contains(bad) && err.contains("silu, softplus, identity"),
            "{err}"
        );
        let err = dir.fails(&["train", "builtin:iris", "--activation", bad]);
        assert!(err.contains(bad) && err.contains("relu, tanh"), "{err}");
    }
}

#[test]
fn colour_only_when_asked_or_on_a_terminal() {
    let dir = Dir::new();
    let args = ["train", "builtin:iris", "--activation", "swish"];
    let stderr = |extra: &[&str], no_color: bool| {
        let mut all = args.to_vec();
        all.extend_from_slice(extra);
        let mut command = dir.command(&all);
        if no_color {
            command.env("NO_COLOR", "1");
        } else {
            command.env_remove("NO_COLOR");
        }
        String::from_utf8_lossy(&command.output().expect("run").stderr).to_string()
    };
    let always = stderr(&["--color", "always"], false);
    assert!(
        always.contains("\x1b[") && always.contains("error:"),
        "{always:?}"
    );
    for (extra, no_color) in [
        (&["--color", "never"][..], false),
        (&[][..], true),
        (&[][..], false),
    ] {
        let text = stderr(extra, no_color);
        assert!(
            !text.contains('\x1b') && text.starts_with("error: "),
            "{text:?}"
        );
    }
}

#[test]
fn a_train_run_is_coloured_only_when_asked() {
    let dir = Dir::new();
    let args = [
        "train",
        "builtin:moons",
        "--layers",
        "8",
        "--epochs",
        "3",
        "--patience",
        "0",
        "--save",
        "m.safetensors",
    ];
    let run = |extra: &[&str], no_color: bool| {
        let mut all = args.to_vec();
        all.extend_from_slice(extra);
        let mut command = dir.command(&all);
        if no_color {
            command.env("NO_COLOR", "1");
        } else {
            command.env_remove("NO_COLOR");
        }
        let out = command.output().expect("run");
        assert!(out.status.success());
        (
            String::from_utf8_lossy(&out.stdout).to_string(),
            String::from_utf8_lossy(&out.stderr).to_string(),
        )
    };
    let (stdout, _) = run(&["--color", "always"], false);
    // The epochs that lower the loss are in the best epoch's colour, the warning's label in
    // its own; the text between the escapes is the plain line.
    assert!(stdout.contains("\x1b[1m\x1b[32mepoch 1/3"), "{stdout:?}");
    assert!(
        stdout.contains("warning\x1b[0m    not converged"),
        "{stdout:?}"
    );
    let (_, stderr) = run(&["--color", "always", "--json"], false);
    assert!(
        stderr.contains("\x1b[") && stderr.contains("warning:"),
        "{stderr:?}"
    );
    for (extra, no_color) in [
        (&["--color", "never"][..], false),
        (&["--color", "never", "--json"][..], false),
        (&[][..], true),
        (&[][..], false),
    ] {
        let (stdout, stderr) = run(extra, no_color);
        assert!(!stdout.contains('\x1b'), "{stdout:?}");
        assert!(!stderr.contains('\x1b'), "{stderr:?}");
        if !extra.contains(&"--json") {
            assert!(stdout.contains("epoch 1/3  train loss"), "{stdout:?}");
        }
    }
}
