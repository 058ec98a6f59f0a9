//! The memory store's own behaviour, tested here without a server; the same behaviours are
//! tested against both stores, Postgres included, in tests/api/store.rs.
