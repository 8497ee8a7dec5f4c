"""The documents policy files cite, with their official numbers and titles in both languages.

A source note of a policy file (`[sources]`, `routing.stage_sources`) is free text; `cited_documents` finds
the documents it names (by number or by the English name the notes use), so `marketplace policy show` can
print each one's official title in the reader's language. Titles are checked against the published texts
(docs/policy-sources.md); a note that names no listed document is shown as written.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["DOCUMENTS", "Document", "cited_documents"]


@dataclass(frozen=True, slots=True)
class Document:
    """A cited text: `id` is stable, `number` the official document number ("" for laws), titles in full."""

    id: str
    number: str
    title_en: str
    title_zh: str
    mentions: tuple[str, ...]  # how the notes name it (number, short number, English name)


DOCUMENTS: tuple[Document, ...] = (
    Document(
        "pricing-2025-65",
        "发改价格〔2025〕65号",
        "Notice on establishing a price formation mechanism for authorized operation of public data "
        "resources",
        "关于建立公共数据资源授权运营价格形成机制的通知",
        ("发改价格〔2025〕65号", "65号"),
    ),
    Document(
        "registration-2025-26",
        "发改数据规〔2025〕26号",
        "Interim Measures for Public Data Resource Registration",
        "公共数据资源登记管理暂行办法",
        ("发改数据规〔2025〕26号", "26号"),
    ),
    Document(
        "specification-2025-27",
        "发改数据规〔2025〕27号",
        "Implementation Specification for Authorized Operation of Public Data Resources (trial)",
        "公共数据资源授权运营实施规范（试行）",
        ("发改数据规〔2025〕27号", "27号"),
    ),
    Document(
        "opinions-2024",
        "",
        "Opinions of the General Offices of the CPC Central Committee and the State Council on accelerating "
        "the development and use of public data resources",
        "中共中央办公厅、国务院办公厅关于加快公共数据资源开发利用的意见",
        ("Opinions on accelerating development and use of public data resources",
         "Opinions on public data resources"),
    ),
    Document(
        "data-20-articles",
        "",
        "Opinions of the CPC Central Committee and the State Council on building basic systems for data to "
        "better play its role as a factor of production (the Data 20 Articles)",
        "中共中央、国务院关于构建数据基础制度更好发挥数据要素作用的意见",
        ("Data 20 Articles",),
    ),
    Document(
        "government-data-sharing-2025",
        "国务院令第809号",
        "Regulations on Government Data Sharing",
        "政务数据共享条例",
        ("政务数据共享条例",),
    ),
    Document(
        "data-security-law",
        "",
        "Data Security Law of the People's Republic of China",
        "中华人民共和国数据安全法",
        ("Data Security Law",),
    ),
    Document(
        "government-procurement-law",
        "",
        "Government Procurement Law of the People's Republic of China",
        "中华人民共和国政府采购法",
        ("Government Procurement Law", "政府采购法"),
    ),
)


def cited_documents(note: str) -> tuple[str, ...]:
    """Ids of the listed documents a source note names, in the order of `DOCUMENTS`."""
    return tuple(d.id for d in DOCUMENTS if any(m in note for m in d.mentions))
