"""Plate matrices inside exports: a column-number header, then one lettered row per plate row.

Most instruments print a read as a grid: a header ``<corner>, 1, 2, …, 12``
(``01``… for EnVision) followed by rows ``A, v1, v2, …``. The corner cell may
be empty, ``<>`` (Tecan) or a unit (``Abs``, ``RLU``: SkanIt); the grid may
start in any column (GloMax, BMG SMART Control). Cells past the last column
(row labels such as Gen5's ``Lum``) are not part of the grid.
"""

from __future__ import annotations

from killcurve.plate import row_name

#: One cell of a matrix: (row letter, 1-based column, cell text).
GridCell = tuple[str, int, str]


def column_header(cells: list[str], start: int) -> int:
    """Number of plate columns when ``cells[start:]`` runs 1, 2, 3, …; 0 otherwise.

    >>> column_header(["", "1", "2", "3", "4", ""], 1)
    4
    >>> column_header(["<>", "01", "02", "03"], 1)
    3
    >>> column_header(["Reading:", "1", "", "1"], 1)
    0
    """
    count = 0
    for cell in cells[start:]:
        text = cell.strip()
        if not (text.isdigit() and int(text) == count + 1):
            break
        count += 1
    return count if count >= 3 else 0


def find_header(cells: list[str]) -> tuple[int, int] | None:
    """``(corner column, number of columns)`` of a column header anywhere in the row.

    A corner cell that is a row letter marks a data row (``A, 1, 2, 3``), not a header.

    >>> find_header(["", "Reading:", "", "1", "", "1", "2", "3"])
    (4, 3)
    >>> find_header(["Plate", "1", "Group"])
    """
    for start, cell in enumerate(cells):
        if cell.strip() in ("1", "01") and start > 0 and row_name(cells[start - 1], 0) is None:
            width = column_header(cells, start)
            if width:
                return start - 1, width
    return None


def read_matrix(
    rows: list[list[str]], header: int, corner: int, width: int
) -> tuple[list[GridCell], int]:
    """Cells of the lettered rows under the header at ``rows[header]``.

    Reading stops at the first row whose ``corner`` cell is not a row letter.
    Returns the cells (text stripped, missing cells as ``""``) and the index of
    the first row after the matrix.
    """
    cells: list[GridCell] = []
    index = header + 1
    position = 0
    while index < len(rows):
        row = rows[index]
        letter = row_name(row[corner], position) if corner < len(row) else None
        if letter is None:
            break
        for col in range(1, width + 1):
            at = corner + col
            cells.append((letter, col, row[at].strip() if at < len(row) else ""))
        index += 1
        position += 1
    return cells, index
