//! The sandbox: the five vendor fakes served side by side (PLACEHOLDER until the
//! sandbox issue).
