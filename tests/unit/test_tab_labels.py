"""Every tab's label is on the screen at 80 columns, and the full names where they fit."""

from denet_tui.screen_tabs import LABELS, TABS, WIDE_TABS, tab_labels


def width(labels: dict[str, str]) -> int:
    return sum(len(label) + 1 for label in labels.values())  # a cell after each (app.tcss)


def test_every_tab_fits_in_80_columns() -> None:
    assert set(LABELS) == set(TABS)
    assert width(tab_labels(80)) <= 80
    assert all(label[0] == LABELS[tab][0][0] for tab, label in tab_labels(80).items())  # its key


def test_the_full_names_from_where_they_fit() -> None:
    assert width(tab_labels(WIDE_TABS)) <= WIDE_TABS
    assert tab_labels(WIDE_TABS) == {tab: pair[0] for tab, pair in LABELS.items()}
    assert tab_labels(WIDE_TABS - 1)["overview"] == "1 Main"
