"""Mapping tables between the marketplace vocabulary and the EU / DCAT-AP controlled vocabularies.

Kept as plain data in one place so that export and import stay inverse where they can, and so that a reader
can check (or a scenario author extend) a mapping without reading code.
"""

from __future__ import annotations

from marketplace.vocabulary import (
    FieldMarking,
    FieldType,
    OpeningAttribute,
    OrganizationKind,
    SharingAttribute,
)

EU_AUTHORITY = "http://publications.europa.eu/resource/authority/"
ACCESS_RIGHT = EU_AUTHORITY + "access-right/"
DATA_THEME = EU_AUTHORITY + "data-theme/"
FREQUENCY = EU_AUTHORITY + "frequency/"
FILE_TYPE = EU_AUTHORITY + "file-type/"
LANGUAGE = EU_AUTHORITY + "language/"
PUBLISHER_TYPE = "http://purl.org/adms/publishertype/"

# Default domain of an imported resource whose keywords and themes match nothing below.
DEFAULT_DOMAIN = "other"

# ---------------------------------------------------------------- access rights
ACCESS_RIGHT_LABELS = {"PUBLIC": "public", "RESTRICTED": "restricted", "NON_PUBLIC": "non-public"}


def access_right_of(sharing: SharingAttribute, opening: OpeningAttribute) -> str:
    """EU access right of a resource: open to all -> PUBLIC; open on application -> RESTRICTED; else
    NON_PUBLIC.

    Sharing is between government departments only, so a shared-but-not-open resource is NON_PUBLIC.
    """
    if opening == OpeningAttribute.unconditional:
        return "PUBLIC"
    if opening == OpeningAttribute.conditional:
        return "RESTRICTED"
    return "NON_PUBLIC"


# EU access right -> (sharing_attribute, opening_attribute) on import. Missing/unknown -> "RESTRICTED".
ATTRIBUTES_OF_ACCESS_RIGHT: dict[str, tuple[SharingAttribute, OpeningAttribute]] = {
    "PUBLIC": (SharingAttribute.unconditional, OpeningAttribute.unconditional),
    "RESTRICTED": (SharingAttribute.conditional, OpeningAttribute.conditional),
    "NON_PUBLIC": (SharingAttribute.conditional, OpeningAttribute.not_open),
    "CONFIDENTIAL": (SharingAttribute.not_shared, OpeningAttribute.not_open),
}
DEFAULT_ACCESS_RIGHT = "RESTRICTED"

# ---------------------------------------------------------------- themes and domains
# Marketplace domain -> EU data theme code (export). Unknown domains -> GOVE.
THEME_OF_DOMAIN = {
    "transport": "TRAN",
    "health": "HEAL",
    "social_insurance": "SOCI",
    "enterprise_registry": "ECON",
    "tax": "ECON",
    "environment": "ENVI",
    "geospatial": "REGI",
    "education": "EDUC",
    "housing": "SOCI",
    "public_safety": "JUST",
    "energy": "ENER",
    "agriculture": "AGRI",
    "population": "SOCI",
    "finance": "ECON",
    "science": "TECH",
    "culture": "EDUC",
    "other": "GOVE",
}
DEFAULT_THEME = "GOVE"
THEME_LABELS = {
    "AGRI": "Agriculture, fisheries, forestry and food",
    "ECON": "Economy and finance",
    "EDUC": "Education, culture and sport",
    "ENER": "Energy",
    "ENVI": "Environment",
    "GOVE": "Government and public sector",
    "HEAL": "Health",
    "INTR": "International issues",
    "JUST": "Justice, legal system and public safety",
    "REGI": "Regions and cities",
    "SOCI": "Population and society",
    "TECH": "Science and technology",
    "TRAN": "Transport",
}
# EU data theme code -> domain (import). GOVE and INTR carry no domain: keywords decide, else DEFAULT_DOMAIN.
DOMAIN_OF_THEME = {
    "AGRI": "agriculture",
    "ECON": "enterprise_registry",
    "EDUC": "education",
    "ENER": "energy",
    "ENVI": "environment",
    "HEAL": "health",
    "JUST": "public_safety",
    "REGI": "geospatial",
    "SOCI": "social_insurance",
    "TECH": "science",
    "TRAN": "transport",
}
# Keyword / tag / group word (lower case) -> domain (import). Checked before themes: words are more specific.
DOMAIN_OF_KEYWORD = {
    "transport": "transport",
    "traffic": "transport",
    "bus": "transport",
    "rail": "transport",
    "railway": "transport",
    "road": "transport",
    "roads": "transport",
    "parking": "transport",
    "mobility": "transport",
    "transit": "transport",
    "交通": "transport",
    "公交": "transport",
    "health": "health",
    "hospital": "health",
    "hospitals": "health",
    "medical": "health",
    "disease": "health",
    "covid-19": "health",
    "医疗": "health",
    "卫生": "health",
    "健康": "health",
    "social insurance": "social_insurance",
    "pension": "social_insurance",
    "pensions": "social_insurance",
    "welfare": "social_insurance",
    "unemployment": "social_insurance",
    "社保": "social_insurance",
    "社会保险": "social_insurance",
    "business": "enterprise_registry",
    "companies": "enterprise_registry",
    "company": "enterprise_registry",
    "enterprise": "enterprise_registry",
    "business register": "enterprise_registry",
    "企业": "enterprise_registry",
    "市场主体": "enterprise_registry",
    "tax": "tax",
    "taxes": "tax",
    "taxation": "tax",
    "revenue": "tax",
    "税务": "tax",
    "environment": "environment",
    "air quality": "environment",
    "pollution": "environment",
    "water quality": "environment",
    "climate": "environment",
    "emissions": "environment",
    "环境": "environment",
    "geospatial": "geospatial",
    "maps": "geospatial",
    "gis": "geospatial",
    "cadastre": "geospatial",
    "boundaries": "geospatial",
    "address": "geospatial",
    "地理": "geospatial",
    "测绘": "geospatial",
    "education": "education",
    "schools": "education",
    "school": "education",
    "students": "education",
    "university": "education",
    "教育": "education",
    "housing": "housing",
    "real estate": "housing",
    "property": "housing",
    "rent": "housing",
    "住房": "housing",
    "不动产": "housing",
    "public safety": "public_safety",
    "crime": "public_safety",
    "police": "public_safety",
    "fire": "public_safety",
    "emergency": "public_safety",
    "公安": "public_safety",
    "应急": "public_safety",
    "energy": "energy",
    "electricity": "energy",
    "能源": "energy",
    "agriculture": "agriculture",
    "farming": "agriculture",
    "农业": "agriculture",
}

# ---------------------------------------------------------------- frequency
FREQUENCY_OF_UPDATE = {
    "continuous": "CONT",
    "realtime": "CONT",
    "daily": "DAILY",
    "weekly": "WEEKLY",
    "monthly": "MONTHLY",
    "quarterly": "QUARTERLY",
    "yearly": "ANNUAL",
    "annual": "ANNUAL",
    "irregular": "IRREG",
}
UPDATE_OF_FREQUENCY = {
    "CONT": "continuous",
    "UPDATE_CONT": "continuous",
    "DAILY": "daily",
    "WEEKLY": "weekly",
    "MONTHLY": "monthly",
    "QUARTERLY": "quarterly",
    "ANNUAL": "yearly",
    "IRREG": "irregular",
}
DEFAULT_UPDATE_FREQUENCY = "irregular"

# ---------------------------------------------------------------- publishers
PUBLISHER_TYPE_OF_KIND = {
    OrganizationKind.department: "NationalAuthority",
    OrganizationKind.institution: "NationalAuthority",
    OrganizationKind.regulator: "NationalAuthority",
    OrganizationKind.enterprise: "Company",
    OrganizationKind.operator: "Company",
    OrganizationKind.research: "Academia-ScientificOrganisation",
    OrganizationKind.nonprofit: "NonProfitOrganisation",
}
KIND_OF_PUBLISHER_TYPE = {
    "NationalAuthority": OrganizationKind.department,
    "RegionalAuthority": OrganizationKind.department,
    "LocalAuthority": OrganizationKind.department,
    "SupraNationalAuthority": OrganizationKind.department,
    "Company": OrganizationKind.enterprise,
    "IndustryConsortium": OrganizationKind.enterprise,
    "Academia-ScientificOrganisation": OrganizationKind.research,
    "NonProfitOrganisation": OrganizationKind.nonprofit,
    "NonGovernmentalOrganisation": OrganizationKind.nonprofit,
    "StandardisationBody": OrganizationKind.institution,
}
DEFAULT_PUBLISHER_KIND = OrganizationKind.department

# ---------------------------------------------------------------- fields
# Column type names of CKAN datastore, Frictionless Table Schema and XSD (CSVW) -> FieldType.
FIELD_TYPE_OF = {
    "text": FieldType.string,
    "string": FieldType.string,
    "varchar": FieldType.string,
    "int": FieldType.integer,
    "int4": FieldType.integer,
    "int8": FieldType.integer,
    "integer": FieldType.integer,
    "long": FieldType.integer,
    "bigint": FieldType.integer,
    "numeric": FieldType.number,
    "number": FieldType.number,
    "float": FieldType.number,
    "float8": FieldType.number,
    "double": FieldType.number,
    "decimal": FieldType.number,
    "date": FieldType.date,
    "datetime": FieldType.date,
    "timestamp": FieldType.date,
    "year": FieldType.date,
    "bool": FieldType.boolean,
    "boolean": FieldType.boolean,
}

# Name heuristics for field markings, checked in this order on the lower-cased field name (words joined by _):
# a person's name or contact detail is an identifier, but `stop_name` or `station_id` are not.
MARKING_PATTERNS: list[tuple[FieldMarking, str]] = [
    (
        FieldMarking.identifier,
        r"^(name|full_?name|first_?name|last_?name|given_?name|surname)$|"
        r"(person|patient|citizen|applicant|owner|resident|student|driver|employee|taxpayer)_?name|"
        r"(^|_)(id_?card|id_?number|national_?id|citizen_?id|person_?id|patient_?id|student_?id|ssn|passport|"
        r"phone|mobile|telephone|email|e_?mail|street_?address|home_?address|address|licen[cs]e_?plate|"
        r"plate_?number|bank_?account)($|_)|姓名|身份证|电话|手机|住址",
    ),
    (
        FieldMarking.quasi_identifier,
        r"(^|_)(age|birth_?date|date_?of_?birth|dob|birth_?year|gender|sex|zip|zip_?code|post_?code|postal_?code|"
        r"district|county|township|occupation|ethnicity|ethnic_?group|nationality|marital_?status|education_?level)"
        r"($|_)|年龄|出生|性别|民族|职业",
    ),
    (
        FieldMarking.sensitive,
        r"(^|_)(diagnosis|disease|icd_?10|icd|income|salary|wage|religion|health_?status|medical|criminal|"
        r"conviction|disability|benefit_?amount|debt|hiv|treatment)($|_)|诊断|疾病|收入|宗教",
    ),
]
