fn main() {
    std::process::exit(meshsim::cli::main());
}
