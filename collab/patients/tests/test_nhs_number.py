import pytest

from collab.patients.nhs_number import InvalidNhsNumber, is_valid, validate, with_check_digit


@pytest.mark.parametrize("raw", ["9434765919", "943 476 5919", "943-476-5919", "4010232137"])
def test_valid_numbers_are_normalised(raw):
    assert validate(raw, allow_test_range=True) == raw.replace(" ", "").replace("-", "")


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("9434765918", "check digit"),
        ("943476591", "10 digits"),
        ("94347659190", "10 digits"),
        ("1111111111", "repeated digit"),
        ("0000000000", "repeated digit"),
        ("٩٤٣٤٧٦٥٩١٩", "10 digits"),  # Arabic-Indic digits pass str.isdigit() and \d
        ("943476591X", "10 digits"),
        ("", "10 digits"),
    ],
)
def test_invalid_numbers_name_the_problem(raw, message):
    with pytest.raises(InvalidNhsNumber, match=message):
        validate(raw, allow_test_range=True)


def test_test_range_is_refused_where_not_allowed():
    assert is_valid("9434765919", allow_test_range=True)
    with pytest.raises(InvalidNhsNumber, match="test range"):
        validate("9434765919", allow_test_range=False)
    assert is_valid("4010232137", allow_test_range=False)


def test_check_digit_of_ten_means_no_number():
    # 999000001x: weights give a check digit of 10 for some prefixes; those have no valid number.
    made = [with_check_digit(f"{n:09d}") for n in range(999000000, 999000050)]
    assert None in made
    for number in filter(None, made):
        assert is_valid(number, allow_test_range=True)
