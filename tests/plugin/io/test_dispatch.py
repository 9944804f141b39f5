"""The reader a file gets by its suffix, and the errors for a missing file or an unknown suffix."""

import pytest
from llamafactory_domains.plugin.errors import UserError
from llamafactory_domains.plugin.io.dispatch import iter_rows


def test_not_an_xlsx_and_unknown_suffix_and_missing_file(tmp_path):
    fake = tmp_path / "fake.xlsx"
    fake.write_text("not a zip")
    with pytest.raises(UserError, match="not a readable .xlsx workbook"):
        list(iter_rows(fake, None, [("a",)]))
    with pytest.raises(UserError, match="unsupported file type .doc"):
        iter_rows(fake.rename(tmp_path / "x.doc"), None, [("a",)])
    with pytest.raises(UserError, match="no such file"):
        iter_rows(tmp_path / "missing.json", None, [])
