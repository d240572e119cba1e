# syntax=docker/dockerfile:1
# Multi-stage build: compile in the Rust image, run in a slim Debian image as a non-root user.

FROM rust:1.95-bookworm AS build
WORKDIR /src
# Build the dependencies first so that source edits do not rebuild them.
COPY Cargo.toml Cargo.lock build.rs ./
RUN mkdir src && echo 'fn main() {}' > src/main.rs && touch src/lib.rs \
    && cargo build --release --locked \
    && rm -rf src
COPY src src
COPY sql sql
RUN touch src/main.rs src/lib.rs \
    && cargo build --release --locked \
    && strip target/release/chat-system

FROM debian:bookworm-slim
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --no-create-home --shell /usr/sbin/nologin chat
COPY --from=build /src/target/release/chat-system /usr/local/bin/chat-system
USER 10001
ENV LISTEN_ADDR=0.0.0.0:3000
EXPOSE 3000
# The image has no curl: the binary asks its own /readyz (exit status 0 when ready).
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=3 \
    CMD ["/usr/local/bin/chat-system", "healthcheck"]
ENTRYPOINT ["/usr/local/bin/chat-system"]
CMD ["serve"]
