//! The `chat-system` binary: serve (default), `migrate`, `demo`, or write the OpenAPI document.

use anyhow::Context;
use clap::Parser;

use chat_system::{
    app, demo, http,
    settings::{Cli, Command},
    store,
};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    app::init_tracing(cli.settings.log_json);
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => app::serve(cli.settings).await,
        Command::Migrate => {
            let database = app::database(&cli.settings).await?;
            app::migrate(&database.db, &cli.settings).await?;
            tracing::info!("migrations applied");
            Ok(())
        }
        Command::Demo {
            applications,
            chats,
            messages,
            quiet,
        } => {
            let database = app::database(&cli.settings).await?;
            app::migrate(&database.db, &cli.settings).await?;
            let size = demo::DemoSize {
                applications,
                chats,
                messages,
            };
            let created = demo::fill(&database.db, size, !quiet).await?;
            println!("{}", demo::summary(&created, &cli.settings.listen.to_string()));
            Ok(())
        }
        Command::Healthcheck => app::healthcheck(&cli.settings),
        Command::Openapi { path } => {
            let database = store::Db::connect("postgres://localhost/unused", &cli.settings)?;
            let spec = http::spec_json(app::state(database, &cli.settings));
            if let Some(dir) = path.parent() {
                std::fs::create_dir_all(dir)?;
            }
            std::fs::write(&path, spec + "\n").with_context(|| format!("writing {}", path.display()))?;
            println!("wrote {}", path.display());
            Ok(())
        }
    }
}
