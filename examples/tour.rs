//! The inspector: Go's classic map (map_noswiss.go, Go 1.24.11) at work, step
//! by step, as text, SVG or one self-contained HTML page.
//!
//! ```text
//! cargo run --release --example tour                      # the walkthrough, as text
//! cargo run --release --example tour -- --out /tmp/tour   # step-NN.svg + index.html
//! cargo run --release --example tour -- --help
//! ```
//!
//! The logic lives in the library (`gomap_inspector`); this file parses the
//! command line (by hand) and writes the output.

use std::path::PathBuf;
use std::process::ExitCode;

use gomap_inspector::{self as render, KeyChoice, TourOptions};

const HELP: &str = "\
gomap inspector: Go's classic map (map_noswiss.go, Go 1.24.11) at work, step by step.

USAGE
    cargo run --release --example tour -- [OPTIONS]

With no options, runs the built-in walkthrough on a fixed seed and prints it
as text: inserts until a bucket fills and overflows, growth (hashGrow,
growWork, evacuate, nevacuate advancing), an iterator started mid-grow,
deletes leaving emptyOne/emptyRest, churn up to a same-size grow, NaN and
+-0 keys, and clear ending a live iterator. Each step names the gomap
function and the map_noswiss.go function with its line.

OPTIONS
    --key u64|u32|f64|str   key type of the main map (default u64)
    --seed S                seed of the random source: hash seeds, iteration
                            starts, NaN hashes (default 1)
    --ops N                 stop after N map operations; the last step shows
                            the state at that point
    --hash fallback|aes     hash path (default fallback: the same output on
                            every machine; aes needs a CPU with AES-NI)
    --text                  print the steps as text (the default)
    --svg                   print one step as SVG (the one --step selects,
                            default 1); with --out, write step-NN.svg files
    --html                  print the study page: one self-contained HTML file,
                            every step, map_noswiss.go's lines beside each
                            picture, prev/next and keys (-> <- [ ]), a step
                            list, #step-N links; with --out, write index.html
    --no-go-source          do not embed map_noswiss.go in the HTML page (by
                            default it is read from .venv-go's Go 1.24.11 when
                            installed); line references then link online
    --step K                show only step K (1-based) with --text/--svg
    --out DIR               write DIR/step-NN.svg and DIR/index.html (only the
                            kinds asked for if --svg/--html are given) and
                            DIR/tour.txt
    --replay FILE           render a go-ref trace (docs/trace-format.md, e.g.
                            tests/golden/u64-grow-fallback.jsonl): gomap
                            replays it with the recorded random draws, and
                            each step shows gomap's state beside real Go's
                            recorded state, differences marked. Steps: the
                            ops with a recorded state; --step K: op K only
    --go                    run a scenario in real Go now (needs
                            .venv-go/bin/go and go-ref/cmd/oracle), replay it
                            on gomap and show both side by side; steps: the
                            ops that change the map's structure. Uses --key,
                            --seed, --ops (default 150), --hash, --scenario
    --scenario NAME         with --go: grow, samesize, iter, clear, clone or
                            mixed (default grow)
    --script FILE           your own program: run the operations in FILE on
                            gomap, one step per operation (language below).
                            Uses --key, --seed (unless the script sets one),
                            --hash. With --go, real Go runs the same script
                            (oracle -script) and gomap takes each call's
                            random draws from it; every call is compared and
                            each step says whether gomap matched Go (exit
                            status 1 if any differs). With --out, Go's trace
                            is kept as DIR/go-trace.jsonl
    --against TRACE         with --script: compare with this recorded Go
                            trace of the script instead of running Go
    -h, --help              this text

SCRIPTS (--script FILE; docs/study-guide.md, section \"Your own program\")
    # comment          blank lines and # comments are ignored
    seed N             the random seed (once, before the first make)
    make [HINT]        m := make(map[K]V[, HINT]); the script's first operation
    assign K [V]       m[K] = V (alias set); without V, the n-th assignment stores n
    delete K           delete(m, K)
    lookup K           v, ok := m[K] (alias get)
    len | clear        len(m) | clear(m)
    clone              m = maps.Clone(m): the script goes on with the clone
    shrink             gomap only (docs/shrink.md); refused with --go
    range              for k, v := range m {}: the whole loop, one step
    range start        for k, v := range m {: mapiterinit, the first entry
    next [N|all]       N more iterations (default 1), or to the end
    break              leave the loop
    Between range start and the loop's end, assign/delete/lookup/len/clear
    run inside the loop body, with Go's semantics. Keys: u64/u32 decimal or
    0x hex; f64 1.5, -0, 1e9, NaN, +Inf, -Inf; str a word or \"quoted\".
    K may be a range A..B (str: k1..k20), one step for all its keys.
    Examples: examples/scripts/basics.txt, examples/scripts/samesize.txt

EXAMPLES
    cargo run --release --example tour -- --key str --text --step 10
    cargo run --release --example tour -- --out target/tour && xdg-open target/tour/index.html
    cargo run --release --example tour -- --replay tests/golden/u64-grow-fallback.jsonl --step 120
    cargo run --release --example tour -- --go --scenario samesize --ops 300 --out target/go-vs-gomap
    cargo run --release --example tour -- --script examples/scripts/basics.txt --go --out target/mine
    cargo run --release --example tour -- --script examples/scripts/samesize.txt --key str --text
";

#[derive(Default)]
struct Args {
    key: Option<KeyChoice>,
    seed: Option<u64>,
    ops: Option<usize>,
    aes: bool,
    text: bool,
    svg: bool,
    html: bool,
    step: Option<usize>,
    out: Option<PathBuf>,
    replay: Option<PathBuf>,
    go: bool,
    scenario: Option<String>,
    hash_given: bool,
    no_go_source: bool,
    script: Option<PathBuf>,
    against: Option<PathBuf>,
}

fn parse() -> Result<Option<Args>, String> {
    let mut a = Args::default();
    let argv: Vec<String> = std::env::args().skip(1).collect();
    let mut it = argv.into_iter();
    fn value(it: &mut impl Iterator<Item = String>, flag: &str) -> Result<String, String> {
        it.next().ok_or_else(|| format!("{flag} needs a value"))
    }
    fn number<T: std::str::FromStr>(s: &str, flag: &str) -> Result<T, String> {
        s.parse().map_err(|_| format!("{flag}: not a number: {s}"))
    }
    while let Some(arg) = it.next() {
        // Accept --flag=value as well as --flag value.
        let (flag, inline) = match arg.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f.to_string(), Some(v.to_string())),
            _ => (arg.clone(), None),
        };
        let val = |it: &mut std::vec::IntoIter<String>| -> Result<String, String> {
            match &inline {
                Some(v) => Ok(v.clone()),
                None => value(it, &flag),
            }
        };
        match flag.as_str() {
            "-h" | "--help" => return Ok(None),
            "--key" => {
                let v = val(&mut it)?;
                a.key =
                    Some(KeyChoice::parse(&v).ok_or_else(|| format!("--key: expected u64, u32, f64 or str, got {v}"))?);
            }
            "--seed" => a.seed = Some(number(&val(&mut it)?, "--seed")?),
            "--ops" => a.ops = Some(number(&val(&mut it)?, "--ops")?),
            "--step" => a.step = Some(number(&val(&mut it)?, "--step")?),
            "--out" => a.out = Some(PathBuf::from(val(&mut it)?)),
            "--hash" => {
                a.hash_given = true;
                match val(&mut it)?.as_str() {
                    "aes" => a.aes = true,
                    "fallback" => a.aes = false,
                    v => return Err(format!("--hash: expected fallback or aes, got {v}")),
                }
            }
            "--replay" => a.replay = Some(PathBuf::from(val(&mut it)?)),
            "--go" => a.go = true,
            "--scenario" => a.scenario = Some(val(&mut it)?),
            "--script" => a.script = Some(PathBuf::from(val(&mut it)?)),
            "--against" => a.against = Some(PathBuf::from(val(&mut it)?)),
            "--text" => a.text = true,
            "--svg" => a.svg = true,
            "--html" => a.html = true,
            "--no-go-source" => a.no_go_source = true,
            _ => return Err(format!("unknown option {arg} (try --help)")),
        }
    }
    Ok(Some(a))
}

fn main() -> ExitCode {
    let args = match parse() {
        Ok(Some(a)) => a,
        Ok(None) => {
            print!("{HELP}");
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("tour: {e}");
            return ExitCode::from(2);
        }
    };
    if args.against.is_some() && args.script.is_none() {
        eprintln!("tour: --against needs --script");
        return ExitCode::from(2);
    }
    if args.script.is_some() && args.replay.is_some() {
        eprintln!("tour: --script and --replay exclude each other (--against TRACE compares a script with a trace)");
        return ExitCode::from(2);
    }

    // Deterministic hashing: the canonical test key material and a fixed
    // hash path, installed before any map exists.
    gomap::alg::set_key_material(&gomap::alg::test_key_material());

    let mut go_trace = None;
    let built = if args.script.is_some() {
        script_tour(&args, &mut go_trace)
    } else if args.replay.is_some() || args.go {
        trace_tour(&args)
    } else {
        let aes = gomap::alg::set_use_aeshash(args.aes);
        if args.aes && !aes {
            eprintln!("tour: this CPU cannot run the AES hash path; using the fallback");
        }
        let opts =
            TourOptions { key: args.key.unwrap_or(KeyChoice::U64), seed: args.seed.unwrap_or(1), max_ops: args.ops };
        Ok(render::walkthrough(&opts))
    };
    let tour = match built {
        Ok(t) => t,
        Err(e) => {
            eprintln!("tour: {e}");
            return ExitCode::FAILURE;
        }
    };
    let n = tour.steps.len();
    if n == 0 {
        eprintln!("tour: nothing to show");
        return ExitCode::FAILURE;
    }
    // With a trace, --step K selected op K already: its one step is shown.
    let step =
        if args.script.is_none() && (args.replay.is_some() || args.go) { args.step.map(|_| 1) } else { args.step };
    // A script compared with Go: the steps that differ (there must be none).
    let differing = if args.script.is_some() && (args.go || args.against.is_some()) {
        tour.steps.iter().filter(|s| s.notes.iter().any(|n| n.starts_with("DIFFERENCE"))).count()
    } else {
        0
    };
    let verdict = || -> ExitCode {
        if args.script.is_some() && (args.go || args.against.is_some()) {
            if differing > 0 {
                eprintln!("tour: {differing} of {n} steps differ from real Go");
                return ExitCode::FAILURE;
            }
            eprintln!("tour: all {n} steps match real Go");
        }
        ExitCode::SUCCESS
    };
    if let Some(k) = step {
        if k == 0 || k > n {
            eprintln!("tour: --step {k}: there are {n} steps (1..={n})");
            return ExitCode::from(2);
        }
    }

    if let Some(dir) = &args.out {
        let all = !args.svg && !args.html;
        if let Err(e) = std::fs::create_dir_all(dir) {
            eprintln!("tour: {}: {e}", dir.display());
            return ExitCode::FAILURE;
        }
        let mut files = Vec::new();
        let mut write = |name: String, body: String| -> Result<(), String> {
            let p = dir.join(&name);
            std::fs::write(&p, body).map_err(|e| format!("{}: {e}", p.display()))?;
            files.push(p);
            Ok(())
        };
        let r = (|| {
            if all || args.svg {
                for i in 0..n {
                    write(format!("step-{:02}.svg", i + 1), tour.svg(i))?;
                }
            }
            if all || args.html {
                write("index.html".into(), page(&tour, &args))?;
            }
            if let Some(t) = &go_trace {
                write("go-trace.jsonl".into(), t.clone())?;
            }
            write("tour.txt".into(), tour.text())
        })();
        if let Err(e) = r {
            eprintln!("tour: {e}");
            return ExitCode::FAILURE;
        }
        eprintln!("tour: wrote {} files to {} ({n} steps)", files.len(), dir.display());
        if args.text {
            print!("{}", text_of(&tour, step));
        }
        return verdict();
    }

    if args.html {
        print!("{}", page(&tour, &args));
    } else if args.svg {
        print!("{}", tour.svg(step.unwrap_or(1) - 1));
    } else {
        print!("{}", text_of(&tour, step));
    }
    verdict()
}

/// `--script FILE`: the script on gomap, with Go's trace of it (`--go`
/// runs Go now, `--against TRACE` reads a recorded one) when asked.
fn script_tour(args: &Args, go_trace: &mut Option<String>) -> Result<render::Tour, String> {
    use render::script;
    let file = args.script.as_ref().expect("--script");
    let text = std::fs::read_to_string(file).map_err(|e| format!("{}: {e}", file.display()))?;
    let key = args.key.unwrap_or(KeyChoice::U64);
    let s = script::parse(&text, key).map_err(|e| format!("{}: {e}", file.display()))?;
    let seed = s.seed.or(args.seed).unwrap_or(1);
    let compare = args.go || args.against.is_some();
    if compare {
        if let Some(l) = s.shrink_line() {
            return Err(format!(
                "{}: line {l}: shrink has no Go twin (gomap's mapshrink, docs/shrink.md): run the script without --go",
                file.display()
            ));
        }
    }
    let (trace, source) = if let Some(t) = &args.against {
        let text = std::fs::read_to_string(t).map_err(|e| format!("{}: {e}", t.display()))?;
        (Some(text), t.display().to_string())
    } else if args.go {
        let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
        let go = render::goref::GoRef::find(&root).map_err(|e| format!("--go {e}"))?;
        let oracle = go.build_oracle("oracle")?;
        let (ty, _, _) = script::trace_kind(key);
        let stem = file.file_stem().map_or("script".into(), |s| s.to_string_lossy().into_owned());
        let out = root.join(format!("target/inspector/script-{stem}-{ty}-{seed}.jsonl"));
        let cmd: Vec<String> =
            ["-type", ty, "-seed", &seed.to_string(), "-script"].iter().map(|s| s.to_string()).collect();
        let mut cmd = cmd;
        cmd.push(file.display().to_string());
        let text = render::goref::run_oracle(&oracle, &cmd, args.hash_given && args.aes, &out)?;
        (
            Some(text),
            format!("{} (just recorded: oracle -type {ty} -seed {seed} -script {})", out.display(), file.display()),
        )
    } else {
        (None, String::new())
    };
    let aes = match &trace {
        Some(t) => render::trace_hash_path(t)? == "aes",
        None => args.aes,
    };
    if gomap::alg::set_use_aeshash(aes) != aes {
        return Err("this CPU cannot run the AES hash path".into());
    }
    let go = trace.as_deref().map(|text| script::GoTrace { text, source: &source });
    let tour = script::run(&s, key, seed, go, &file.display().to_string())?;
    *go_trace = trace;
    Ok(tour)
}

/// `--replay FILE` or `--go`: a trace of real Go, replayed on gomap.
fn trace_tour(args: &Args) -> Result<render::Tour, String> {
    let (text, source) = if let Some(file) = &args.replay {
        let text = std::fs::read_to_string(file).map_err(|e| format!("{}: {e}", file.display()))?;
        (text, file.display().to_string())
    } else {
        run_oracle(args)?
    };
    let path = render::trace_hash_path(&text)?;
    let on = gomap::alg::set_use_aeshash(path == "aes");
    if (path == "aes") != on {
        return Err("the trace uses the AES hash path, which this CPU cannot run".into());
    }
    let select = match args.step {
        Some(k) => render::TraceSelect::Op(k),
        None if args.go => render::TraceSelect::Structural,
        None => render::TraceSelect::Snapshots,
    };
    render::replay_trace(&text, select, &source)
}

/// Builds go-ref's oracle and runs it: real Go 1.24.11 maps
/// (GOEXPERIMENT=noswissmap), one trace line with the full state per op.
fn run_oracle(args: &Args) -> Result<(String, String), String> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let go = render::goref::GoRef::find(&root).map_err(|e| format!("--go {e}"))?;
    let oracle = go.build_oracle("oracle")?;
    let key = args.key.unwrap_or(KeyChoice::U64);
    let ty = match key {
        KeyChoice::U64 => "u64",
        KeyChoice::U32 => "u32",
        KeyChoice::F64 => "f64",
        KeyChoice::Str => "str",
    };
    let scenario = args.scenario.clone().unwrap_or_else(|| "grow".into());
    let seed = args.seed.unwrap_or(1);
    let ops = args.ops.unwrap_or(150).max(2);
    let aes = args.hash_given && args.aes;
    let trace = root.join(format!("target/inspector/{ty}-{scenario}-{seed}.jsonl"));
    let cmd: Vec<String> =
        ["-type", ty, "-scenario", &scenario, "-seed", &seed.to_string(), "-ops", &ops.to_string(), "-snap", "1"]
            .iter()
            .map(|s| s.to_string())
            .collect();
    let text = render::goref::run_oracle(&oracle, &cmd, aes, &trace)?;
    Ok((
        text,
        format!(
            "{} (just recorded: oracle -type {ty} -scenario {scenario} -seed {seed} -ops {ops} -snap 1)",
            trace.display()
        ),
    ))
}

/// The study page, with `map_noswiss.go` embedded when Go 1.24.11 is
/// installed in `.venv-go` (read now, never stored in the repository);
/// otherwise its line references link to the source online.
fn page(tour: &render::Tour, args: &Args) -> String {
    if args.no_go_source {
        return tour.html();
    }
    match go_source() {
        Ok(src) => tour.html_with_source(&src),
        Err(why) => {
            eprintln!("tour: Go source not embedded ({why}); line references link online");
            tour.html()
        }
    }
}

/// `$GOROOT/src/runtime/map_noswiss.go` of `.venv-go`'s Go, if it is 1.24.11.
fn go_source() -> Result<render::study::GoSource, String> {
    render::goref::GoRef::find(&PathBuf::from(env!("CARGO_MANIFEST_DIR")))?.source()
}

fn text_of(tour: &render::Tour, step: Option<usize>) -> String {
    match step {
        Some(k) => render::step_text(&tour.steps[k - 1], k, tour.steps.len()),
        None => tour.text(),
    }
}
