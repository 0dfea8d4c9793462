//! The sync engine (PLACEHOLDER until the sync-engine issue): planner (windows,
//! bisection, lookback, re-visits), engine (a task per source, limiter, retry, one
//! store writer), checkpoints committed with the data.
