"""The table of states: lookups by every form, ambiguity, mentions in text, and the data itself."""

from __future__ import annotations

import importlib.resources
import json
import re
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path
from typing import Any

import pytest

from briefer.text import countries
from briefer.text.aliases import ALIASES, alias_key
from briefer.text.countries import (
    codes_for,
    countries_mentioned,
    country_name,
    find_mentions,
    is_ambiguous,
    names_for,
)

ROOT = Path(__file__).resolve().parents[2]

# ISO 3166-1 alpha-3, all 249 entries, and Kosovo's XKX.
_ISO = """
ABW AFG AGO AIA ALA ALB AND ARE ARG ARM ASM ATA ATF ATG AUS AUT AZE BDI BEL BEN BES BFA BGD
BGR BHR BHS BIH BLM BLR BLZ BMU BOL BRA BRB BRN BTN BVT BWA CAF CAN CCK CHE CHL CHN CIV CMR
COD COG COK COL COM CPV CRI CUB CUW CXR CYM CYP CZE DEU DJI DMA DNK DOM DZA ECU EGY ERI ESH
ESP EST ETH FIN FJI FLK FRA FRO FSM GAB GBR GEO GGY GHA GIB GIN GLP GMB GNB GNQ GRC GRD GRL
GTM GUF GUM GUY HKG HMD HND HRV HTI HUN IDN IMN IND IOT IRL IRN IRQ ISL ISR ITA JAM JEY JOR
JPN KAZ KEN KGZ KHM KIR KNA KOR KWT LAO LBN LBR LBY LCA LIE LKA LSO LTU LUX LVA MAC MAF MAR
MCO MDA MDG MDV MEX MHL MKD MLI MLT MMR MNE MNG MNP MOZ MRT MSR MTQ MUS MWI MYS MYT NAM NCL
NER NFK NGA NIC NIU NLD NOR NPL NRU NZL OMN PAK PAN PCN PER PHL PLW PNG POL PRI PRK PRT PRY
PSE PYF QAT REU ROU RUS RWA SAU SDN SEN SGP SGS SHN SJM SLB SLE SLV SMR SOM SPM SRB SSD STP
SUR SVK SVN SWE SWZ SXM SYC SYR TCA TCD TGO THA TJK TKL TKM TLS TON TTO TUN TUR TUV TWN TZA
UGA UKR UMI URY USA UZB VAT VCT VEN VGB VIR VNM VUT WLF WSM YEM ZAF ZMB ZWE XKX
"""
ISO_CODES = tuple(_ISO.split())


def _data() -> dict[str, Any]:
    path = importlib.resources.files("briefer").joinpath("data/countries.json")
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def _key(name: str) -> tuple[str, ...]:
    return countries._key(countries._words(name))


def _entry_forms() -> list[tuple[str, str]]:
    return [
        (form, entry["code"]) for entry in _data()["countries"] for form in names_for(entry["code"])
    ]


# --- lookups ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "codes"),
    [
        ("Kenya", ("KEN",)),
        ("Kenyan", ("KEN",)),
        ("Kenyans", ("KEN",)),
        ("Kenya's", ("KEN",)),
        ("Nairobi", ("KEN",)),
        ("kenya", ("KEN",)),
        ("  Republic   of Kenya ", ("KEN",)),
        ("United States", ("USA",)),
        ("U.S.", ("USA",)),
        ("US", ("USA",)),
        ("USA", ("USA",)),
        ("U.S.A.", ("USA",)),
        ("America", ("USA",)),
        ("the United States of America", ("USA",)),
        ("Americans", ("USA",)),
        ("Washington", ("USA",)),
        ("Washington, D.C.", ("USA",)),
        ("White House", ("USA",)),
        ("Britain", ("GBR",)),
        ("UK", ("GBR",)),
        ("U.K.", ("GBR",)),
        ("Great Britain", ("GBR",)),
        ("Britons", ("GBR",)),
        ("the Netherlands", ("NLD",)),
        ("Holland", ("NLD",)),
        ("Dutch", ("NLD",)),
        ("DRC", ("COD",)),
        ("D.R.C.", ("COD",)),
        ("DR Congo", ("COD",)),
        ("Congo-Kinshasa", ("COD",)),
        ("Congo Kinshasa", ("COD",)),
        ("Democratic Republic of the Congo", ("COD",)),
        ("Kinshasa", ("COD",)),
        ("Republic of the Congo", ("COG",)),
        ("Congo-Brazzaville", ("COG",)),
        ("Brazzaville", ("COG",)),
        ("South Korea", ("KOR",)),
        ("S. Korea", ("KOR",)),
        ("South Koreans", ("KOR",)),
        ("North Korea", ("PRK",)),
        ("DPRK", ("PRK",)),
        ("Democratic People's Republic of Korea", ("PRK",)),
        ("Pretoria", ("ZAF",)),
        ("Cape Town", ("ZAF",)),
        ("Guinea", ("GIN",)),
        ("Guinean", ("GIN",)),
        ("Guinea-Bissau", ("GNB",)),
        ("Guinea Bissau", ("GNB",)),
        ("Bissau-Guineans", ("GNB",)),
        ("Equatorial Guinea", ("GNQ",)),
        ("Papua New Guinea", ("PNG",)),
        ("Turkey", ("TUR",)),
        ("Türkiye", ("TUR",)),
        ("Turkiye", ("TUR",)),
        ("Turks", ("TUR",)),
        ("Turks and Caicos", ("TCA",)),
        ("Côte d'Ivoire", ("CIV",)),
        ("Cote d’Ivoire", ("CIV",)),
        ("Ivory Coast", ("CIV",)),
        ("St. Lucia", ("LCA",)),
        ("St Lucia", ("LCA",)),
        ("Saint Lucia", ("LCA",)),
        ("Trinidad & Tobago", ("TTO",)),
        ("the Philippines'", ("PHL",)),
        ("Filipinos", ("PHL",)),
        ("Kremlin", ("RUS",)),
        ("Swiss", ("CHE",)),
        ("Chinese Taipei", ("TWN",)),
        ("People's Republic of China", ("CHN",)),
        ("Republic of China", ("TWN",)),
        ("Kosovo", ("XKX",)),
        ("Tbilisi", ("GEO",)),
        ("Republic of Georgia", ("GEO",)),
    ],
)
def test_codes_for(name: str, codes: tuple[str, ...]) -> None:
    assert codes_for(name) == codes


@pytest.mark.parametrize(
    "name", ["Springfield", "", "   ", "the", "New Mexico", "Northern Ireland", "Europe", "England"]
)
def test_codes_for_what_names_no_state(name: str) -> None:
    assert codes_for(name) == ()
    assert not is_ambiguous(name)


def test_every_listed_form_finds_its_state() -> None:
    for form, code in _entry_forms():
        assert code in codes_for(form), form
        if not is_ambiguous(form):
            assert codes_for(form) == (code,), form


def test_lookups_compare_names_as_alias_key_does() -> None:
    for form, _ in _entry_forms():
        possessive = form if form.endswith("'s") else f"{form}'s"
        the = form if form.lower().startswith("the ") else f"the {form}"
        for variant in (alias_key(form), form.upper(), form.lower(), the, possessive):
            assert codes_for(variant) == codes_for(form), (form, variant)


def test_the_alias_table_and_the_country_table_agree() -> None:
    # An alias of a state's actor can name that state, or no state at all ("the Biden
    # administration"), never only another one.
    for alias, actor in ALIASES.items():
        if actor.country and country_name(actor.country) == actor.canonical:
            codes = codes_for(alias)
            assert not codes or actor.country in codes, alias


@pytest.mark.parametrize(
    ("code", "name"),
    [
        ("COD", "Democratic Republic of the Congo"),
        ("KOR", "South Korea"),
        ("USA", "United States"),
        ("usa", "United States"),
        ("GBR", "United Kingdom"),
        ("TUR", "Turkey"),
        ("XKX", "Kosovo"),
    ],
)
def test_country_name(code: str, name: str) -> None:
    assert country_name(code) == name


def test_unknown_codes() -> None:
    assert country_name("XXX") is None
    assert names_for("XXX") == ()


def test_names_for_gives_name_names_demonyms_and_capitals_in_order() -> None:
    forms = names_for("ZAF")
    assert forms[0] == "South Africa"
    assert {"Republic of South Africa", "South African", "Pretoria", "Cape Town"} <= set(forms)
    assert forms.index("South African") < forms.index("Pretoria")
    usa = names_for("USA")
    assert {"U.S.", "US", "USA", "America", "United States of America", "Washington"} <= set(usa)
    assert {"DRC", "DR Congo", "Congo-Kinshasa", "Kinshasa"} <= set(names_for("COD"))
    assert {"Britain", "UK", "U.K.", "Great Britain", "British"} <= set(names_for("GBR"))
    assert {"the Netherlands", "Holland"} <= set(names_for("NLD"))


def test_every_code_has_a_name() -> None:
    assert all(country_name(code) for code in ISO_CODES)


# --- ambiguity -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "codes"),
    [
        ("Congo", ("COD", "COG")),
        ("the Congo", ("COD", "COG")),
        ("Congolese", ("COD", "COG")),
        ("Korea", ("KOR", "PRK")),
        ("Korean", ("KOR", "PRK")),
        ("Koreans", ("KOR", "PRK")),
        ("Dominican", ("DMA", "DOM")),
        ("Samoan", ("ASM", "WSM")),
        ("Virgin Islands", ("VGB", "VIR")),
        ("Saint Martin", ("MAF", "SXM")),
        ("St. Martin", ("MAF", "SXM")),
        ("Jerusalem", ("ISR", "PSE")),
        ("Kingston", ("JAM", "NFK")),
        ("Georgia", ("GEO",)),
        ("Georgians", ("GEO",)),
        ("Jordan", ("JOR",)),
        ("Macedonia", ("MKD",)),
        ("the Emirates", ("ARE",)),
        ("The Hague", ("NLD",)),
        ("Brussels", ("BEL",)),
        ("Tripoli", ("LBY",)),
        ("CAR", ("CAF",)),
    ],
)
def test_ambiguous_forms(name: str, codes: tuple[str, ...]) -> None:
    assert codes_for(name) == codes
    assert is_ambiguous(name)


@pytest.mark.parametrize(
    "name", ["Guinea", "Chad", "Niger", "Turkey", "Washington", "Sudan", "Dominica", "Samoa"]
)
def test_forms_that_count_though_they_could_mean_more(name: str) -> None:
    assert len(codes_for(name)) == 1
    assert not is_ambiguous(name)


def test_other_meanings() -> None:
    meanings: dict[str, str] = _data()["other_meanings"]
    assert meanings["Georgia"] == "the US state of Georgia"
    assert "given name" in meanings["Chad"]
    assert meanings["Niger"] == "the Niger River"
    assert meanings["Turkey"] == "the bird"
    assert "Kenya" not in meanings


# --- mentions in text ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "codes"),
    [
        ("Kenya's president flew to Nairobi.", {"KEN"}),
        ("Kenyans voted on Tuesday.", {"KEN"}),
        ("a Kenya-based charity", {"KEN"}),
        ("the U.S.-led coalition", {"USA"}),
        ("the US-led coalition", {"USA"}),
        ("KENYA'S PRESIDENT MEETS U.S. ENVOY", {"KEN", "USA"}),
        ("Democratic Republic Of The Congo Signs Deal", {"COD"}),
        ("Let us know what you think.", set()),
        ("Us and them.", set()),
        ("US officials told us nothing.", {"USA"}),
        ("Americans and Britons", {"USA", "GBR"}),
        ("Officials in Kinshasa and Brazzaville", {"COD", "COG"}),
        ("Congo's army and Congolese rebels", set()),
        ("the Democratic Republic of the Congo and the Republic of Congo", {"COD", "COG"}),
        ("North Korea fired a missile toward South Korea.", {"PRK", "KOR"}),
        ("tension on the Korean Peninsula", set()),
        ("Guinea-Bissau's army", {"GNB"}),
        ("Equatorial Guinea and Papua New Guinea", {"GNQ", "PNG"}),
        ("a coup in Guinea", {"GIN"}),
        ("the island of New Guinea", set()),
        ("piracy in the Gulf of Guinea", set()),
        ("Atlanta, Georgia", set()),
        ("Tbilisi, the capital of Georgia", {"GEO"}),
        ("New Mexico and Mexico City", {"MEX"}),
        ("Belfast, Northern Ireland", set()),
        ("Dublin and Ireland", {"IRL"}),
        ("South Sudan split from Sudan.", {"SSD", "SDN"}),
        ("Latin American and South American leaders", set()),
        ("American troops", {"USA"}),
        ("Nigeria and Niger", {"NGA", "NER"}),
        ("oil spills in the Niger Delta", set()),
        ("Spanish-speaking voters", set()),
        ("The Hague", set()),
        ("Pretoria and Cape Town", {"ZAF"}),
        ("Côte d’Ivoire and Cote d'Ivoire", {"CIV"}),
        ("the Philippines' coast guard", {"PHL"}),
        ("St. Lucia and Trinidad & Tobago", {"LCA", "TTO"}),
        ("Turks and Caicos", {"TCA"}),
        ("Turks and Kurds", {"TUR"}),
        ("Kenya2024 and Kenyalike", set()),
        ("'Kenya' and “Uganda”", {"KEN", "UGA"}),
        ("the kremlin", set()),
        ("the Kremlin", {"RUS"}),
        ("the South China Sea", set()),
        ("Washington, D.C.", {"USA"}),
        ("Cocos (Keeling) Islands", {"CCK"}),
        ("Sint Maarten and St. Martin", {"SXM"}),
        # Accepted: "Turkey" opening a sentence is read as the state, even in a recipe.
        ("Turkey should rest before carving.", {"TUR"}),
        ("Roast the turkey for three hours.", set()),
        # A known limit: "Chad" the first name is read as the state.
        ("Chad Smith said", {"TCD"}),
        # A known limit: text set in capitals is read as written.
        ("TELL US MORE", {"USA"}),
    ],
)
def test_countries_mentioned(text: str, codes: set[str]) -> None:
    assert countries_mentioned(text) == codes


def test_decomposed_accents_are_read() -> None:
    text = "Co\u0302te d'Ivoire"
    (mention,) = find_mentions(text)
    assert mention.codes == ("CIV",)
    assert mention.text == text


def test_mentions_carry_exact_offsets() -> None:
    text = "After Kenya's vote, the U.S.-led talks in the Congo resumed near Guinea-Bissau."
    mentions = find_mentions(text)
    assert [(m.text, m.codes, m.ambiguous) for m in mentions] == [
        ("Kenya", ("KEN",), False),
        ("U.S.", ("USA",), False),
        ("Congo", ("COD", "COG"), True),
        ("Guinea-Bissau", ("GNB",), False),
    ]
    for mention in mentions:
        assert text[mention.start : mention.end] == mention.text


def test_mentions_country() -> None:
    text = "Fighting in eastern Congo spread toward Kenya."
    may_name = {code for mention in find_mentions(text) for code in mention.codes}
    assert "KEN" in countries_mentioned(text)
    assert "COD" not in countries_mentioned(text)
    assert {"COD", "COG"} <= may_name
    assert "UGA" not in may_name
    assert "GEO" not in countries_mentioned("Voters in Georgia")
    assert [m.codes for m in find_mentions("Voters in Georgia")] == [("GEO",)]


def test_a_large_text_is_read_in_one_pass() -> None:
    # About 1 MB; no time is asserted, the test's timeout stands guard.
    sentence = (
        "Officials in Nairobi said the U.S.-led talks with the Democratic Republic of the Congo"
        " and Papua New Guinea had stalled, while New Mexico voters and us were unmoved. "
    )
    copies = 1_000_000 // len(sentence) + 1
    mentions = find_mentions(sentence * copies)
    assert len(mentions) == 4 * copies
    assert countries_mentioned(sentence * copies) == {"KEN", "USA", "COD", "PNG"}
    # Inputs that would trip a backtracking pattern: prefixes that never complete, one huge
    # word, a run of capitals.
    for text in (
        "Republic of the " * 60_000,
        "South " * 150_000,
        "Kenya" * 200_000,
        "A.B." * 200_000,
        "KENYA " * 150_000,
    ):
        find_mentions(text)


# --- the data --------------------------------------------------------------------------------


def test_every_entry_is_valid() -> None:
    data = _data()
    entries = data["countries"]
    codes = [entry["code"] for entry in entries]
    assert codes == sorted(codes)
    assert len(codes) == len(set(codes))
    assert sorted(codes) == sorted(ISO_CODES)
    for entry in entries:
        assert list(entry) == ["code", "name", "names", "demonyms", "capitals"]
        assert re.fullmatch(r"[A-Z]{3}", entry["code"]), entry
        assert isinstance(entry["name"], str)
        assert entry["name"].strip() == entry["name"] != "", entry
        for field in ("names", "demonyms", "capitals"):
            assert isinstance(entry[field], list), entry
            for form in entry[field]:
                assert isinstance(form, str)
                assert form.strip() == form != "", entry


def test_every_form_begins_with_a_capital() -> None:
    # Scanning starts only at a capitalised word.
    data = _data()
    forms = [form for form, _ in _entry_forms()]
    forms += list(data["ambiguous"]) + list(data["not_mentions"])
    for form in forms:
        assert countries._words(form)[0][0].isupper(), form


def test_a_form_of_two_states_is_listed_as_ambiguous() -> None:
    data = _data()
    owners: dict[tuple[str, ...], set[str]] = {}
    for form, code in _entry_forms():
        owners.setdefault(_key(form), set()).add(code)
    ambiguous = {_key(name): set(codes) for name, codes in data["ambiguous"].items()}
    for key, codes in owners.items():
        if len(codes) > 1:
            assert key in ambiguous, key
        if key in ambiguous:
            assert codes <= ambiguous[key], key


def test_the_ambiguous_list_is_consistent() -> None:
    data = _data()
    ambiguous: dict[str, list[str]] = data["ambiguous"]
    meanings: dict[str, str] = data["other_meanings"]
    keys = [_key(name) for name in ambiguous]
    assert len(keys) == len(set(keys))
    for name, codes in ambiguous.items():
        assert codes == sorted(set(codes)), name
        assert set(codes) <= set(ISO_CODES), name
        if len(codes) == 1:
            # One state, and something else: the table says what, and lists it under the state.
            assert name in meanings, name
            assert codes[0] in codes_for(name)
            assert any(_key(form) == _key(name) for form in names_for(codes[0])), name
    for name, meaning in meanings.items():
        assert meaning and codes_for(name), name


def test_not_mentions_collide_with_no_form() -> None:
    data = _data()
    listed = {_key(form) for form, _ in _entry_forms()} | {_key(n) for n in data["ambiguous"]}
    keys = [_key(phrase) for phrase in data["not_mentions"]]
    assert len(keys) == len(set(keys))
    for phrase, key in zip(data["not_mentions"], keys, strict=True):
        assert key not in listed, phrase
        assert countries_mentioned(phrase) == frozenset(), phrase


def test_the_json_is_laid_out_as_written() -> None:
    path = importlib.resources.files("briefer").joinpath("data/countries.json")
    text = path.read_text(encoding="utf-8")
    assert text == json.dumps(json.loads(text), ensure_ascii=False, indent=2) + "\n"


# --- packaging -------------------------------------------------------------------------------


def test_the_json_is_a_package_resource() -> None:
    resource = importlib.resources.files("briefer").joinpath("data/countries.json")
    assert resource.is_file()
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    setuptools = config["tool"]["setuptools"]
    assert "briefer.data" in setuptools["packages"]
    assert "*.json" in setuptools["package-data"]["briefer.data"]


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_the_json_is_in_the_built_wheel(tmp_path: Path) -> None:
    # Built from a copy, so the checkout gets no build/ folder.
    source = tmp_path / "source"
    source.mkdir()
    for name in ("pyproject.toml", "README.md", *[p.name for p in ROOT.glob("LICEN[CS]E*")]):
        shutil.copy2(ROOT / name, source / name)
    for folder in ("briefer", "prompts", "schemas"):
        shutil.copytree(
            ROOT / folder, source / folder, ignore=shutil.ignore_patterns("__pycache__")
        )
    dist = tmp_path / "dist"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "--quiet",
            "-w",
            str(dist),
            str(source),
        ],
        check=True,
        capture_output=True,
    )
    (wheel,) = dist.glob("briefer-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        packed = json.loads(archive.read("briefer/data/countries.json").decode("utf-8"))
    assert packed == _data()
