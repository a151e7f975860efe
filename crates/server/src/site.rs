//! The site root. The single-page app is served here once it is built into the binary; until
//! then the root page says what runs and where the API documentation is.

use axum::{http::StatusCode, response::Html};

pub async fn index() -> Html<&'static str> {
    Html(INDEX)
}

pub async fn not_found() -> (StatusCode, Html<&'static str>) {
    (
        StatusCode::NOT_FOUND,
        Html(
            "<!doctype html><title>Not found</title><h1>Not found</h1><p><a href=\"/\">Curtain home</a></p>",
        ),
    )
}

const INDEX: &str = r#"<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>Curtain</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:42rem;margin:3rem auto;padding:0 1rem;color:#222}
code{background:#f3f3f3;padding:.1rem .3rem;border-radius:3px}</style></head>
<body>
<h1>Curtain</h1>
<p>The Curtain server is running. The web front end is not built into this binary yet.</p>
<ul>
<li><a href="/api/docs/">API documentation</a> (<a href="/api/openapi.json">OpenAPI document</a>)</li>
<li><a href="/api/events/">Upcoming performances</a> (JSON)</li>
<li><a href="/health/ready">Readiness</a></li>
</ul>
</body>
</html>
"#;
