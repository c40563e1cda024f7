"""Chart data for the dashboard: one shape for Chart.js (drawn by static/dashboard/charts.js) and for the table
under each chart, so the two cannot disagree and the page reads without JavaScript (the table is the fallback)."""

from dataclasses import dataclass, field
from decimal import Decimal


@dataclass
class Series:
    label: str
    values: list  # numbers (Decimal, int or None), one per label of the chart
    money: bool = False  # shown as ¥ in the table
    drawn: bool = True  # False: in the table only (e.g. a count beside an amount, which would need its own axis)


@dataclass
class Chart:
    id: str
    title: str
    kind: str  # "bar", "stacked", "doughnut" or "line"
    labels: list[str]
    series: list[Series]
    drills: list[str] = field(default_factory=list)  # a URL per label ("" where there is no list behind it)

    def as_json(self) -> dict:
        """What charts.js reads (numbers as floats: drawing only; the table shows the exact Decimals)."""
        return {
            "kind": self.kind,
            "labels": [str(label) for label in self.labels],
            "series": [
                {"label": str(series.label), "values": [_number(value) for value in series.values]}
                for series in self.series
                if series.drawn
            ],
        }

    @property
    def rows(self) -> list[dict]:
        """One row per label for the accessible table: the label, its drill URL and each series' value."""
        drills = self.drills or [""] * len(self.labels)
        return [
            {
                "label": label,
                "drill": drills[index],
                "cells": [(series.values[index], series.money) for series in self.series],
            }
            for index, label in enumerate(self.labels)
        ]


def _number(value) -> float | None:
    if value is None:
        return None
    return float(value) if isinstance(value, Decimal) else value
