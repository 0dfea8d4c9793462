//! Printing helpers shared by commands (tables, CSV rows).
