"""Phone numbers in one form (E.164), whatever form the agent or the CRM typed them in."""

import phonenumbers

DEFAULT_REGION = "US"


def to_e164(raw, region=DEFAULT_REGION):
    """Return ``raw`` as E.164 ("+14155550100"), or None if it is not a possible number."""
    if not raw or not isinstance(raw, str):
        return None
    try:
        number = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def national_digits(e164):
    """The national number without country code (what HubSpot's phone search wants)."""
    number = phonenumbers.parse(e164, None)
    return str(number.national_number)


def find_phones(text, region=DEFAULT_REGION):
    """Every phone number in free text, as E.164, in order of appearance."""
    found = []
    # POSSIBLE, not VALID: reserved demo ranges and new number blocks still count.
    for match in phonenumbers.PhoneNumberMatcher(text, region, leniency=phonenumbers.Leniency.POSSIBLE):
        e164 = phonenumbers.format_number(match.number, phonenumbers.PhoneNumberFormat.E164)
        if e164 not in found:
            found.append(e164)
    return found
