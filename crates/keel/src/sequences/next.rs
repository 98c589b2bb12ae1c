//! What a sequence's next value must be: pure arithmetic, shared by check
//! and fix.
