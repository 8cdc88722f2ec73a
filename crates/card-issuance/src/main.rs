#[tokio::main]
async fn main() -> std::process::ExitCode {
    platform::service::main::<card_issuance::Application>().await
}
