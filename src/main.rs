use clap::Parser;
use tickd::cli::{Cli, Command};
use tickd::{cmd, exit, logging};

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    if let Err(failure) = logging::init(cli.log_level.as_deref(), cli.log_format) {
        return exit::finish(Err(failure));
    }
    let result = match cli.command {
        Command::CheckConfig(args) => cmd::check_config::run(args),
        Command::Sim(args) => cmd::sim::run(*args),
        Command::Serve(args) => cmd::serve::run(args),
        Command::Gateway(args) => cmd::gateway::run(args),
        Command::Demo(args) => cmd::demo::run(args),
        Command::Record(args) => cmd::record::run(args),
        Command::Replay(args) => cmd::replay::run(args),
        Command::Bars(args) => cmd::bars::run(args),
        Command::Trades(args) => cmd::trades::run(args),
        Command::Tail(args) => cmd::tail::run(args),
    };
    exit::finish(result)
}
