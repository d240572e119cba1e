//! The `chat-system` binary: serve (default), `migrate`, or write the OpenAPI document.

use anyhow::Context;
use clap::Parser;

use chat_system::{
    api,
    config::{Cli, Command},
    db, demo, startup,
};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    startup::init_tracing(cli.config.log_json);
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => startup::serve(cli.config).await,
        Command::Migrate => {
            let database = startup::database(&cli.config).await?;
            startup::migrate(&database.db, &cli.config).await?;
            tracing::info!("migrations applied");
            Ok(())
        }
        Command::Demo {
            applications,
            chats,
            messages,
            quiet,
        } => {
            let database = startup::database(&cli.config).await?;
            startup::migrate(&database.db, &cli.config).await?;
            let size = demo::DemoSize {
                applications,
                chats,
                messages,
            };
            let created = demo::fill(&database.db, size, !quiet).await?;
            println!("{}", demo::summary(&created, &cli.config.listen.to_string()));
            Ok(())
        }
        Command::Openapi { path } => {
            let database = db::Db::connect("postgres://localhost/unused", &cli.config)?;
            let spec = api::spec_json(startup::state(database, &cli.config));
            if let Some(dir) = path.parent() {
                std::fs::create_dir_all(dir)?;
            }
            std::fs::write(&path, spec + "\n").with_context(|| format!("writing {}", path.display()))?;
            println!("wrote {}", path.display());
            Ok(())
        }
    }
}
