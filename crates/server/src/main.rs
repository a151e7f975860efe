//! The `curtain` command line: serve, worker, migrate, create-admin, seed-demo.

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use curtain::{
    accounts::{roles::Role, service::upsert_with_role},
    app::{self, AppState},
    clock::SystemClock,
    config::{Config, DemoMode, LogFormat},
    db, demo, worker,
};

#[derive(Parser)]
#[command(name = "curtain", version, about = "Theater ticketing server")]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the API, the web app and WebSockets (runs the background worker too unless told not to).
    Serve {
        /// Do not run the background worker in this process.
        #[arg(long)]
        no_worker: bool,
    },
    /// Run background jobs only.
    Worker,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Create a staff or admin account, or update the password and role of an existing one.
    CreateAdmin {
        #[arg(long)]
        email: String,
        #[arg(long)]
        password: String,
        #[arg(long, default_value = "admin", value_parser = ["staff", "admin"])]
        role: String,
        #[arg(long, default_value = "Administrator")]
        name: String,
    },
    /// Load the demo theater, performances and accounts (does nothing if they exist).
    SeedDemo,
    /// Print the OpenAPI document (for client generators and validators).
    Openapi,
}

fn main() -> ExitCode {
    let _ = dotenvy::dotenv();
    let cli = Cli::parse();
    if matches!(cli.command, Some(Command::Openapi)) {
        let (_, document) = app::api_document();
        return match document.to_pretty_json() {
            Ok(json) => {
                println!("{json}");
                ExitCode::SUCCESS
            }
            Err(err) => {
                eprintln!("curtain: cannot render the OpenAPI document: {err}");
                ExitCode::FAILURE
            }
        };
    }
    let config = match Config::from_env() {
        Ok(config) => config,
        Err(err) => {
            eprintln!("curtain: configuration error: {err:#}");
            return ExitCode::from(2);
        }
    };
    init_tracing(&config);
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(err) => {
            eprintln!("curtain: cannot start the async runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli.command.unwrap_or(Command::Serve { no_worker: false }), config)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("curtain: {err:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(command: Command, config: Config) -> anyhow::Result<()> {
    match command {
        Command::Serve { no_worker } => {
            let state = AppState::start_default(config).await?;
            let (stop, stopped) = tokio::sync::watch::channel(false);
            let worker = if no_worker {
                tracing::info!("background worker disabled in this process (--no-worker)");
                None
            } else {
                Some(tokio::spawn(worker::run(state.clone(), stopped)))
            };
            let served = app::run(state).await;
            let _ = stop.send(true);
            if let Some(worker) = worker {
                let _ = worker.await;
            }
            served
        }
        Command::Worker => {
            let state = AppState::start_default(Config { demo: DemoMode::Off, ..config }).await?;
            let (stop, stopped) = tokio::sync::watch::channel(false);
            let worker = tokio::spawn(worker::run(state, stopped));
            app::shutdown_signal().await;
            let _ = stop.send(true);
            let _ = worker.await;
            Ok(())
        }
        Command::Migrate => {
            let db = db::connect_writer(&config.database_url).await?;
            db::migrate(&db, &config.database_url).await?;
            println!("migrations applied to {}", db::redact(&config.database_url));
            Ok(())
        }
        Command::CreateAdmin { email, password, role, name } => {
            let role: Role = role.parse().map_err(anyhow::Error::msg)?;
            let db = db::connect_writer(&config.database_url).await?;
            db::migrate(&db, &config.database_url).await?;
            let user = upsert_with_role(&db, &SystemClock, &email, &password, role, &name).await?;
            println!("{} {} is now {}", user.id, user.email, user.role);
            Ok(())
        }
        Command::Openapi => Ok(()),
        Command::SeedDemo => {
            let db = db::connect_writer(&config.database_url).await?;
            db::migrate(&db, &config.database_url).await?;
            match demo::seed(&db, &SystemClock).await? {
                Some(login) => login.print(),
                None => println!("demo data is already there; nothing to do"),
            }
            Ok(())
        }
    }
}

fn init_tracing(config: &Config) {
    use tracing_subscriber::{EnvFilter, fmt};
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = fmt().with_env_filter(filter);
    match config.log_format {
        LogFormat::Json => builder.json().init(),
        LogFormat::Pretty => builder.init(),
    }
}
