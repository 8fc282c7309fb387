# Copyright (c) mmpathseg contributors. All rights reserved.
"""Read the LViT text annotation tables: ``.xlsx`` workbooks and ``.csv``.

LViT ships its QaTa-COV19 / MosMedData+ sentences as Excel workbooks with the
columns ``Image`` and ``Description``; people convert them to ``.csv`` (some
with ``;`` as separator). Both read into a list of :class:`TableRow`, each with
its 1-based spreadsheet row number, so errors can point at the exact row.

The ``.xlsx`` reader uses only the standard library (an ``.xlsx`` file is a
zip of XML parts): it reads the first worksheet, shared and inline strings and
numbers. It does not need pandas or openpyxl, which are not runtime
dependencies of mmpathseg.
"""
import csv
import posixpath
import zipfile
from pathlib import Path
from typing import Dict, List, NamedTuple, Optional, Sequence
from xml.etree import ElementTree

_NS = {'m': 'http://schemas.openxmlformats.org/spreadsheetml/2006/main'}
_REL_NS = 'http://schemas.openxmlformats.org/officeDocument/2006/relationships'
_PKG_REL = '{http://schemas.openxmlformats.org/package/2006/relationships}'


class TableRow(NamedTuple):
    """One data row of an annotation table.

    Attributes:
        row (int): 1-based row number in the file (the header is row 1).
        values (dict): Column name -> cell text ('' for an empty cell).
    """
    row: int
    values: Dict[str, str]


def _column_index(ref: str) -> int:
    """``'B7'`` -> 1 (0-based column of a cell reference)."""
    index = 0
    for char in ref:
        if not char.isalpha():
            break
        index = index * 26 + (ord(char.upper()) - ord('A') + 1)
    return index - 1


def _first_sheet_path(archive: zipfile.ZipFile) -> str:
    workbook = ElementTree.fromstring(archive.read('xl/workbook.xml'))
    sheet = workbook.find('m:sheets/m:sheet', _NS)
    if sheet is None:
        raise ValueError('the workbook has no worksheet')
    rel_id = sheet.get(f'{{{_REL_NS}}}id')
    rels = ElementTree.fromstring(
        archive.read('xl/_rels/workbook.xml.rels'))
    for rel in rels.iter(f'{_PKG_REL}Relationship'):
        if rel.get('Id') == rel_id:
            target = rel.get('Target')
            if target.startswith('/'):
                return target.lstrip('/')
            return posixpath.normpath(posixpath.join('xl', target))
    raise ValueError(f'worksheet relation {rel_id} not found')


def _cell_text(cell: ElementTree.Element, shared: List[str]) -> str:
    kind = cell.get('t')
    if kind == 'inlineStr':
        return ''.join(t.text or '' for t in cell.iter(f'{{{_NS["m"]}}}t'))
    value = cell.find('m:v', _NS)
    if value is None or value.text is None:
        return ''
    if kind == 's':
        return shared[int(value.text)]
    text = value.text
    # Integers stored as floats ("12.0") read back as "12".
    if kind is None and text.endswith('.0') and \
            text[:-2].lstrip('-').isdigit():
        text = text[:-2]
    return text


def read_xlsx_rows(path: str) -> List[List[str]]:
    """All rows of the first worksheet as lists of cell strings."""
    with zipfile.ZipFile(path) as archive:
        shared = []
        if 'xl/sharedStrings.xml' in archive.namelist():
            root = ElementTree.fromstring(archive.read('xl/sharedStrings.xml'))
            for item in root.findall('m:si', _NS):
                shared.append(''.join(
                    t.text or '' for t in item.iter(f'{{{_NS["m"]}}}t')))
        sheet_xml = archive.read(_first_sheet_path(archive))
    sheet = ElementTree.fromstring(sheet_xml)
    rows = []
    for row in sheet.findall('m:sheetData/m:row', _NS):
        cells: Dict[int, str] = {}
        for position, cell in enumerate(row.findall('m:c', _NS)):
            ref = cell.get('r')
            column = _column_index(ref) if ref else position
            cells[column] = _cell_text(cell, shared)
        width = max(cells) + 1 if cells else 0
        number = int(row.get('r', len(rows) + 1))
        # Keep row numbers aligned with the sheet when rows are skipped.
        while len(rows) < number - 1:
            rows.append([])
        rows.append([cells.get(i, '') for i in range(width)])
    return rows


def read_csv_rows(path: str) -> List[List[str]]:
    """All rows of a ``,`` or ``;`` separated file (sniffed)."""
    with open(path, newline='', encoding='utf-8-sig') as f:
        sample = f.read(4096)
        f.seek(0)
        try:
            dialect = csv.Sniffer().sniff(sample, delimiters=',;\t')
        except csv.Error:
            dialect = csv.excel
        return [row for row in csv.reader(f, dialect)]


def read_annotation_table(path: str,
                          required: Sequence[str],
                          optional: Sequence[str] = ()) -> List[TableRow]:
    """Read an annotation table with a header row.

    Args:
        path (str): ``.xlsx`` or ``.csv`` file.
        required (Sequence[str]): Column names that must be in the header.
        optional (Sequence[str]): Column names read when present.

    Returns:
        list[TableRow]: The non-empty data rows, in file order.
    """
    suffix = Path(path).suffix.lower()
    if not Path(path).is_file():
        raise FileNotFoundError(f'annotation table {path} does not exist.')
    if suffix == '.xlsx':
        try:
            rows = read_xlsx_rows(path)
        except (zipfile.BadZipFile, KeyError, ElementTree.ParseError,
                ValueError) as error:
            raise ValueError(f'{path}: not a readable .xlsx workbook '
                             f'({error}); re-save it as .xlsx or .csv.')
    elif suffix in ('.csv', '.txt', '.tsv'):
        rows = read_csv_rows(path)
    else:
        raise ValueError(f'{path}: unsupported table format {suffix!r}; use '
                         '.xlsx or .csv (old .xls workbooks: re-save as '
                         '.xlsx).')
    if not rows:
        raise ValueError(f'{path}: the table is empty (no header row).')
    header = [name.strip() for name in rows[0]]
    missing = [name for name in required if name not in header]
    if missing:
        raise ValueError(f'{path}: header {header} lacks the column(s) '
                         f'{missing}; set the dataset\'s column names '
                         '(e.g. `image_column`, `text_column`) to match.')
    wanted = list(required) + [n for n in optional if n in header]
    columns = {name: header.index(name) for name in wanted}
    table = []
    for number, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        values = {
            name: (row[i].strip() if i < len(row) else '')
            for name, i in columns.items()
        }
        table.append(TableRow(number, values))
    return table


def read_name_list(path: str, column: Optional[str] = None) -> List[str]:
    """Names of a split file: a table (first column or ``column``), a ``.txt``
    with one name per line, or a ``.json`` list."""
    suffix = Path(path).suffix.lower()
    if not Path(path).is_file():
        raise FileNotFoundError(f'split file {path} does not exist.')
    if suffix == '.json':
        import json
        with open(path) as f:
            names = json.load(f)
        if not isinstance(names, list):
            raise ValueError(f'{path}: a .json split file must hold a list '
                             'of names.')
        return [str(n) for n in names]
    if suffix == '.txt':
        with open(path) as f:
            return [line.strip() for line in f if line.strip()]
    rows = read_xlsx_rows(path) if suffix == '.xlsx' else read_csv_rows(path)
    if not rows:
        return []
    index = 0
    if column is not None:
        header = [c.strip() for c in rows[0]]
        if column not in header:
            raise ValueError(f'{path}: header {header} has no column '
                             f'{column!r}.')
        index = header.index(column)
    return [r[index].strip() for r in rows[1:]
            if len(r) > index and r[index].strip()]
