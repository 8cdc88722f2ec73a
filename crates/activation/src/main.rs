#[tokio::main]
async fn main() -> std::process::ExitCode {
    platform::service::main::<activation::Application>().await
}
