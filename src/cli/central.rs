//! `sbk central serve|seed`: the reference central API, run alone.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Subcommand;

use super::Failure;
use crate::central::{self, Config, Faults, parse_duration, parse_token};

#[derive(Debug, Subcommand)]
pub enum CentralCommand {
    /// Run the reference central API (the contract in docs/central-api.yaml).
    Serve {
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1:8750", value_name = "ADDR")]
        listen: SocketAddr,
        /// The server's database (created and seeded with a synthetic registry if new).
        #[arg(long, default_value = "central.sqlite3", value_name = "FILE")]
        db: PathBuf,
        /// A file of service centres' bearer tokens, one CENTRE:TOKEN a line (# comments),
        /// readable by its owner only. Also SBK_CENTRAL_TOKENS (comma-separated). Tokens are
        /// never taken on the command line, where `ps` shows them to every user. Without
        /// any, a one-off token for centre "dev" is made up and printed.
        #[arg(long, value_name = "FILE")]
        token_file: Option<PathBuf>,
        /// Time from one progress step to the next (500ms, 30s, 10m, 1h...).
        #[arg(long, default_value = "1h", value_parser = parse_duration)]
        pace: std::time::Duration,
        /// Fault injection: probability (0–1) of answering 500 or 503 at random.
        #[arg(long, default_value_t = 0.0, value_parser = probability)]
        fail_rate: f64,
        /// Fault injection: milliseconds added to every request.
        #[arg(long, default_value_t = 0, value_name = "N")]
        latency_ms: u64,
        /// Fault injection: probability (0–1) of committing a submission and then dropping
        /// the connection without answering.
        #[arg(long, default_value_t = 0.0, value_parser = probability)]
        drop_after_commit: f64,
        /// Seconds to put in Retry-After on 429 and 503 answers.
        #[arg(long, value_name = "S")]
        retry_after: Option<u64>,
        /// Answer 429 when more than N requests are being handled at once.
        #[arg(long, value_name = "N")]
        max_concurrent: Option<usize>,
        /// Seed of the fault injector's dice.
        #[arg(long, default_value_t = 1)]
        seed: u64,
    },
    /// (Re)create the synthetic registry of residents in the server's database.
    Seed {
        #[arg(long, default_value = "central.sqlite3", value_name = "FILE")]
        db: PathBuf,
        /// How many residents.
        #[arg(long, default_value_t = central::DEFAULT_REGISTRY_SIZE)]
        count: usize,
        /// The generator's seed: the same seed gives the same people.
        #[arg(long, default_value_t = central::DEFAULT_SEED)]
        seed: u64,
    },
}

/// The tokens of a token file: CENTRE:TOKEN a line. A file others can read is refused:
/// whoever reads it can act as those centres.
fn read_token_file(path: &std::path::Path) -> Result<Vec<(String, String)>, Failure> {
    let fail = |why: String| Failure::Message(format!("令牌文件 {}：{why}", path.display()));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(path)
            .map_err(|e| fail(e.to_string()))?
            .permissions()
            .mode()
            & 0o777;
        if mode & 0o077 != 0 {
            return Err(fail(format!(
                "其他用户可以读取（权限 {mode:o}）：请改为只有本人可读（chmod 600）"
            )));
        }
    }
    let text = crate::private_files::read_regular(path, 1024 * 1024).map_err(fail)?;
    let text = String::from_utf8(text).map_err(|_| fail("不是 UTF-8 文本".into()))?;
    let mut tokens = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        // The line is not echoed: it holds a token.
        tokens.push(
            parse_token(line).map_err(|_| fail(format!("第 {} 行应为 网点编号:令牌", i + 1)))?,
        );
    }
    Ok(tokens)
}

fn probability(text: &str) -> Result<f64, String> {
    text.parse::<f64>()
        .ok()
        .filter(|p| (0.0..=1.0).contains(p))
        .ok_or_else(|| format!("“{text}”不是 0 到 1 之间的概率"))
}

pub fn run(cmd: CentralCommand) -> Result<ExitCode, Failure> {
    match cmd {
        CentralCommand::Serve {
            listen,
            db,
            token_file,
            pace,
            fail_rate,
            latency_ms,
            drop_after_commit,
            retry_after,
            max_concurrent,
            seed,
        } => {
            let mut tokens = match &token_file {
                Some(path) => read_token_file(path)?,
                None => Vec::new(),
            };
            if let Ok(env) = std::env::var("SBK_CENTRAL_TOKENS") {
                for item in env.split(',').filter(|s| !s.trim().is_empty()) {
                    tokens.push(parse_token(item.trim()).map_err(Failure::Message)?);
                }
            }
            if tokens.is_empty() {
                let token = uuid::Uuid::new_v4().simple().to_string();
                eprintln!("未指定 --token-file：本次临时令牌（服务网点 dev）为 {token}");
                tokens.push((token, "dev".into()));
            }
            // Warnings and internal errors to stderr (never request bodies: they hold
            // personal data). SBK_LOG=info|debug for more.
            let filter = tracing_subscriber::EnvFilter::try_from_env("SBK_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
            let _ = tracing_subscriber::fmt()
                .with_env_filter(filter)
                .with_writer(std::io::stderr)
                .with_ansi(false)
                .try_init();
            let config = Config {
                listen,
                db,
                tokens,
                pace,
                faults: Faults {
                    fail_rate,
                    latency: std::time::Duration::from_millis(latency_ms),
                    drop_after_commit,
                    retry_after,
                    max_concurrent,
                },
                seed,
                limits: Default::default(),
            };
            central::serve_forever(config, |addr| {
                eprintln!("参考中心接口已启动：http://{addr}/v1（Ctrl-C 停止）");
            })
            .map_err(|e| Failure::Message(e.to_string()))?;
            Ok(ExitCode::SUCCESS)
        }
        CentralCommand::Seed { db, count, seed } => {
            if count == 0 {
                return Err(Failure::Message("--count 至少为 1".into()));
            }
            let seeded =
                central::seed(&db, count, seed).map_err(|e| Failure::Message(e.to_string()))?;
            println!("已生成 {} 位虚构居民（种子 {seed}），其中：", seeded.len());
            for s in seeded.iter().take(6) {
                println!("  {}  {}  {}", s.id_number, s.name, s.kind.label());
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}
