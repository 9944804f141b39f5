"""xlsx bytes with no clock in them: the same workbook gives the same bytes on every run."""

from __future__ import annotations

import datetime
import io
import re
import zipfile

FIXED_DATE = datetime.datetime(2000, 1, 1)  # docProps created / modified
ZIP_DATE = (1980, 1, 1, 0, 0, 0)
CORE_PROPERTIES = "docProps/core.xml"
MODIFIED = re.compile(rb"(<dcterms:modified[^>]*>)[^<]*(</dcterms:modified>)")


def workbook_bytes(book) -> bytes:
    """The bytes of an openpyxl workbook, with fixed document and zip entry dates."""
    book.properties.created = book.properties.modified = FIXED_DATE
    buffer = io.BytesIO()
    book.save(buffer)
    return fixed_dates(buffer.getvalue())


def fixed_dates(archive: bytes) -> bytes:
    """The zip ``archive`` rewritten with every entry dated :data:`ZIP_DATE`, in the same order, and the
    workbook's modification time set to :data:`FIXED_DATE`."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(archive)) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            entry = zipfile.ZipInfo(info.filename, date_time=ZIP_DATE)
            entry.compress_type, entry.external_attr = zipfile.ZIP_DEFLATED, 0o600 << 16
            data = source.read(info.filename)
            if info.filename == CORE_PROPERTIES:  # openpyxl stamps the time of saving into dcterms:modified
                data = MODIFIED.sub(rb"\g<1>" + FIXED_DATE.strftime("%Y-%m-%dT%H:%M:%SZ").encode() + rb"\g<2>", data)
            target.writestr(entry, data)
    return out.getvalue()
