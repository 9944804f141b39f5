"""Input and output: streaming readers of the raw formats, and writers whose files appear whole or not
at all. Every reader yields a :class:`~.rows.Row` (a record and where it is; its data may be a
:class:`~.rows.Skip`) one at a time, so memory stays flat however large the file: :mod:`.dispatch`
picks the reader by the file's suffix; :mod:`.text` detects and decodes the encodings (with the
progress bar); :mod:`.json_files` reads a JSON array, object or JSONL file, whole or in parts for
parallel workers, through the exact reading of :mod:`.json_exact` (the json module's, with line
numbers) or the orjson fast paths of :mod:`.json_fast`, which give the same or hand over to it;
:mod:`.archives` reads a JSON member of a .zip; :mod:`.tables` reads CSV/TSV, xlsx and Markdown
tables; :mod:`.documents` reads knowledge-base documents whole (txt/md, docx, pdf, xlsx, csv, and
langchain-Chatchat's layout) as text; :mod:`.json_lines` is the strict reader of the JSONL files this tool and LLaMA-Factory
write; :mod:`.atomic` writes files that appear whole or not at all; and :mod:`.paths` checks that no
output is an input or another output and says in one line why a write failed."""
