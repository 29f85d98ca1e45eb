fn main() -> std::process::ExitCode {
    onebin::cli::main()
}
