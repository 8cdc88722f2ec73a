//! The portal in a real browser (issue 17): Debian's Chromium, headless,
//! driven through chromedriver (`system_tests::webdriver`), walks a
//! person's visit — sign in, the card and its deadline, the chart, the CSV
//! link, a PIN, reporting the card lost, signing out — and saves a
//! screenshot of each page into `target/portal-screenshots/`.

use std::path::PathBuf;

use system_tests::{
    portal_world::{PASSWORD, world},
    webdriver::Browser,
};

fn screenshots() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/portal-screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_person_walks_the_portal_in_chromium() {
    let w = world().await;
    let shots = screenshots();
    let mut b = Browser::start().await;

    b.goto(&format!("{}/signin", w.base)).await;
    assert!(b.source().await.contains("网上服务密码"));
    b.screenshot(&shots.join("1-signin.png")).await;
    b.type_into("#id_number", &w.person.id_number).await;
    b.type_into("#password", PASSWORD).await;
    let home = b
        .submit("form[action='/signin'] button", &w.card.card_number)
        .await;
    assert!(home.contains(&w.card.card_number), "the card after sign-in");
    assert!(home.contains("激活截止日期"), "the deadline");
    b.screenshot(&shots.join("2-home.png")).await;

    b.goto(&format!("{}/contributions", w.base)).await;
    let contributions = b.source().await;
    assert!(contributions.contains("<svg"), "the chart");
    assert!(
        contributions.contains("/contributions/statement.csv"),
        "the CSV link"
    );
    b.screenshot(&shots.join("3-contributions.png")).await;

    b.goto(&format!("{}/pin", w.base)).await;
    b.type_into("#new_pin", "482916").await;
    b.submit("form[action='/pin'] button", "密码已设置").await;
    b.screenshot(&shots.join("4-pin.png")).await;

    b.goto(&format!("{}/", w.base)).await;
    b.submit("form[action='/card/loss'] button", "已挂失").await;
    b.screenshot(&shots.join("5-lost.png")).await;

    b.submit("form[action='/signout'] button", "id=\"password\"")
        .await;
    b.screenshot(&shots.join("6-signed-out.png")).await;
    b.quit().await;
}
