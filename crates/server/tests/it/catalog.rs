use crate::harness::TestApp;

#[tokio::test]
async fn categories_and_tags_are_listed_by_name() {
    let app = TestApp::with_demo().await;
    let categories = app.get("/api/categories/").await;
    let names: Vec<_> =
        categories.data().as_array().unwrap().iter().map(|c| c["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["Ballet", "Comedy", "Concert", "Drama", "Musical", "Opera"]);
    let tags = app.get("/api/tags/").await;
    let slugs: Vec<_> = tags.data().as_array().unwrap().iter().map(|t| t["slug"].as_str().unwrap()).collect();
    assert_eq!(slugs, ["classic", "english-subtitles", "family", "premiere", "vietnamese"]);
}
