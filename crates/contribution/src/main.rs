#[tokio::main]
async fn main() -> std::process::ExitCode {
    platform::service::main::<contribution::Application>().await
}
