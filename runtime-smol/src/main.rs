//! The `synod` binary.

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    std::process::exit(synod_runtime_smol::cli::run(&args));
}
