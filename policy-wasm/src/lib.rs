//! The wasm shim (see issue: web console).
