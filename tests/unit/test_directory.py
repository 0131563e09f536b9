"""The directory and hotline data: loaded, complete, and validated strictly."""
import copy

import pytest
import yaml

from bot.core.directory import (DirectoryError, REQUIRED_SLUGS, check_phone_number, get_directory, parse_agencies,
                           parse_hotlines, tel_uri, DIRECTORY_DIR)


def raw(name):
    return yaml.safe_load((DIRECTORY_DIR / name).read_text(encoding="utf-8"))


def test_all_six_agencies_with_seed_phones():
    d = get_directory()
    assert set(REQUIRED_SLUGS) <= set(d.agencies)
    # Numbers as the city's page gives them (shared/seeds).
    seed = (DIRECTORY_DIR.parent.parent / "shared" / "seeds").glob("*.txt")
    text = "".join(p.read_text(encoding="utf-8") for p in seed)
    assert text, "the city's page is read from ../shared/seeds beside the repository (as CI has it)"
    for agency in d.agencies.values():
        assert agency.phone in text, agency.slug
        assert agency.address.split("（")[0].replace("北斗市", "") in text, agency.slug


def test_unconfirmed_hours_are_listed():
    d = get_directory()
    assert any("sogo: hours" in item for item in d.unconfirmed)
    assert all(not a.hours.confirmed for a in d.agencies.values())


@pytest.mark.parametrize("number", ["110", "#8008", "0138-74-2500", "0120-0-78310", "0570-078374", "050-3655-0279"])
def test_well_formed_numbers(number):
    assert check_phone_number(number, "t") == number


@pytest.mark.parametrize("number", ["", None, "0138-74-250", "12345", "#7119", "#9999", "0570-046-556", "０１３８"])
def test_bad_numbers_are_errors(number):
    with pytest.raises(DirectoryError):
        check_phone_number(number, "t")


def test_missing_phone_is_an_error_not_a_gap():
    data = copy.deepcopy(raw("agencies.yml"))
    del data["agencies"][2]["phone"]
    with pytest.raises(DirectoryError, match="phone"):
        parse_agencies(data)


def test_missing_agency_is_an_error():
    data = copy.deepcopy(raw("agencies.yml"))
    data["agencies"] = [a for a in data["agencies"] if a["slug"] != "pastel"]
    with pytest.raises(DirectoryError, match="'disability' must be in the 'fields' of exactly one agency"):
        parse_agencies(data)  # the field ぱすてる takes would go nowhere
    data = copy.deepcopy(raw("agencies.yml"))
    data["agencies"] = [a for a in data["agencies"] if a["slug"] != "sogo"]
    with pytest.raises(DirectoryError, match="sogo"):
        parse_agencies(data)


def test_hotline_without_source_or_with_unknown_crisis_ref_is_an_error():
    agencies, _ = parse_agencies(raw("agencies.yml"))
    data = copy.deepcopy(raw("hotlines.yml"))
    del data["hotlines"][0]["source"]
    with pytest.raises(DirectoryError, match="source"):
        parse_hotlines(data, agencies)
    data = copy.deepcopy(raw("hotlines.yml"))
    data["crisis_kinds"]["suicide"]["lines"].append("no_such_line")
    with pytest.raises(DirectoryError, match="no_such_line"):
        parse_hotlines(data, agencies)


def test_crisis_lines_by_kind():
    d = get_directory()
    numbers = lambda kind: [getattr(e, "number", getattr(e, "phone", None)) for e in d.crisis_lines(kind)]
    assert "189" in numbers("child_abuse")
    assert "110" in numbers("violence")
    assert "0120-279-338" in numbers("suicide")
    assert d.agency("seikatsu").phone in numbers("lifeline")
    assert numbers("medical")[0] == numbers("fire")[0] == "119"  # 119 first for collapse, overdose, fire
    assert numbers("threat")[0] == numbers("missing")[0] == "110"
    assert "#8000" in numbers("sick_child_night")
    assert "#8891" in numbers("sexual_violence")
    assert "189" not in numbers("elder_abuse")
    assert {"110", d.agency("kakehashi").phone, d.agency("city").phone} <= set(numbers("elder_abuse"))
    for kind in d.kind_order:  # 189 only where a child is at risk
        assert ("189" in numbers(kind)) == (kind in ("child_abuse", "general")), kind


def test_every_kind_has_a_label_and_headings_with_numbers_from_the_data():
    d = get_directory()
    for kind, entry in d.crisis_kinds.items():
        assert entry.label and entry.heading and entry.easy
        assert "{" not in entry.heading + entry.easy, kind
    assert "119" in d.crisis_kind("medical").heading
    assert "#8000" in d.crisis_kind("sick_child_night").heading


def test_a_heading_naming_an_unknown_line_is_an_error():
    agencies, _ = parse_agencies(raw("agencies.yml"))
    data = copy.deepcopy(raw("hotlines.yml"))
    data["crisis_kinds"]["fire"]["heading"] = "すぐ{no_such_line}番へ"
    with pytest.raises(DirectoryError, match="no_such_line"):
        parse_hotlines(data, agencies)


def test_a_repeated_slug_or_hotline_id_is_an_error():
    agencies = raw("agencies.yml")
    agencies["agencies"].append(copy.deepcopy(agencies["agencies"][0]))
    with pytest.raises(DirectoryError, match="duplicate slug"):
        parse_agencies(agencies)
    hotlines = raw("hotlines.yml")
    hotlines["hotlines"].append(copy.deepcopy(hotlines["hotlines"][0]))
    with pytest.raises(DirectoryError, match="duplicate id"):
        parse_hotlines(hotlines, get_directory().agencies)


def test_tel_uri():
    assert tel_uri("0138-74-2530") == "tel:0138742530"
    assert tel_uri("#8008") == "tel:%238008"
