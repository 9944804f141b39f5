"""Cleaning a converted dataset before it trains: personal data (privacy), junk, over-long records (length),
near-duplicates (near_dup); pipeline runs the per-record ones in one pass for any converter's output."""
