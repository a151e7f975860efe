# Curtain — the two commands of the README's quick start, and a few more.
.PHONY: run test lint fmt

# Runs the site on the embedded default (SQLite under ./data, demo data) at http://127.0.0.1:8000;
# on first start it prints the demo logins, with passwords generated then and shown only once
run:
	cargo run --locked -p curtain -- serve

# The whole test suite: SQLite always, PostgreSQL when configured or answering on :5432
test:
	./scripts/test.sh

lint:
	cargo fmt --all -- --check
	cargo clippy --workspace --all-targets --locked -- -D warnings

fmt:
	cargo fmt --all
