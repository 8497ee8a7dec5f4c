"""The `PrivacyReport` stored with every `Delivery`: what was released, how safe it is.

How it is made: docs/architecture.md#privacy.

Its fields are those of docs/vocabulary.md#grants-deliveries-and-privacy-reports.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from marketplace.i18n import t

RISK_AVERAGE_DEFINITION = (
    "mean over released records of 1/|equivalence class| (= number of classes / records released)"
)
NCP_DEFINITION = (
    "Global Certainty Penalty (Ghinita et al. 2007): mean over records and quasi-identifiers of the "
    "normalised certainty penalty; number/date: (class max - class min) / (table max - table min); "
    "category: |values under the released node| / |values in the table| (0 for an exact value); "
    "suppressed records count 1"
)


@dataclass
class PrivacyReport:
    """Targets, achieved values and costs of one de-identified release; `to_dict()` is JSON-ready."""

    k_target: int
    l_target: float
    l_kind: str
    k_achieved: int
    l_achieved: float | None  # None when no field is sensitive
    prosecutor_risk_max: float
    prosecutor_risk_avg: float
    ncp: float
    rows_in: int
    rows_released: int
    rows_suppressed: int
    suppression_budget: float
    equivalence_classes: int
    identifiers: list[str] = field(default_factory=list)
    pseudonymised: list[str] = field(default_factory=list)
    quasi_identifiers: list[str] = field(default_factory=list)
    sensitive: list[str] = field(default_factory=list)
    other: list[str] = field(default_factory=list)
    ncp_by_column: dict[str, float] = field(default_factory=dict)
    epsilon_spent: float | None = None
    method: str = "mondrian-strict"
    risk_average_definition: str = RISK_AVERAGE_DEFINITION
    ncp_definition: str = NCP_DEFINITION

    @property
    def columns(self) -> dict[str, list[str]]:
        return {
            "identifiers": self.identifiers,
            "quasi_identifiers": self.quasi_identifiers,
            "sensitive": self.sensitive,
            "other": self.other,
        }

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["columns"] = {key: list(value) for key, value in self.columns.items()}
        return out

    def summary(self, lang: str | None = None) -> str:
        """One line a trainer can read aloud (in `lang`, default the language in force)."""
        l_part = (
            t("privacy.release_summary_l", lang, l=f"{self.l_achieved:g}", kind=self.l_kind)
            if self.l_achieved is not None
            else ""
        )
        return t(
            "privacy.release_summary",
            lang,
            k=self.k_achieved,
            l_part=l_part,
            risk_max=f"{self.prosecutor_risk_max:.3f}",
            risk_avg=f"{self.prosecutor_risk_avg:.3f}",
            ncp=f"{self.ncp:.1%}",
            released=self.rows_released,
            rows=self.rows_in,
            suppressed=self.rows_suppressed,
        )
