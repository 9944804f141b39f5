"""Input and output: streaming readers of the raw formats, and writers whose files appear whole or not at all."""
