//! Signing in within the wizard: the gate before it (first-run set-up, sign-in, a new
//! password after a reset) and the lock screen over it. Both use one small form.

pub mod form;
pub mod gate;
pub mod lock;

pub use form::{Form, FormField, FormReply};
pub use gate::{Gate, GateSettings};
pub use lock::{LockReply, LockScreen};
