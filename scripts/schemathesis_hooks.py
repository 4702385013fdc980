"""A check for scripts/api-fuzz: data valid by docs/central-api.yaml is refused only for
reasons the contract cannot state in a schema.

The contract gives every field its pattern, length, enum and format, so a request that
fits it is well formed. The server may still refuse it with 422, but only for a business
rule: a fact of the registry (not insured, a name that does not match, the pension's
bank, an application in progress, the pickup methods allowed), a rule across fields or
against the calendar (an ID number's check character and the birth date and gender it
encodes; a document's validity; a Latin name only with a foreign document; an
authorisation that is recent), or what a photo's bytes are (uploaded, decodable, to the
card spec). A 422 that names any other field means the contract is looser than the
server: fix the contract (or the server).
"""

import json

import schemathesis

# Codes that are business rules whatever field they name.
BUSINESS_CODES = {
    "ineligible",
    "application_in_progress",
    "idempotency_key_reused",
    "sha256_mismatch",
    "not_an_image",
    # An audit chain that went backwards, or was rewritten: what anchors exist to find.
    "anchor_regressed",
    "anchor_mismatch",
    # An anchor not extending the last one kept, short of its entries, or not signed with
    # the chain's key: schema-valid data the server refuses by the chain's meaning.
    "anchor_not_extending",
    "anchor_entries",
    "anchor_unsigned",
    "anchor_signature",
}

# Fields whose rules reach beyond one value (see the module's docstring), by request path.
BEYOND_SCHEMA = {
    # The eligibility check's own fields: the same rules as the applicant's.
    "name": "Latin letters only with a foreign document",
    "id_number": "its length and check character depend on the document type",
    "applicant.id_number": "length by document type; check character, region, birth date",
    "applicant.birth_date": "must agree with the ID number; not in the future",
    "applicant.gender": "must agree with the ID number",
    "applicant.id_valid_from": "not in the future; before the end",
    "applicant.id_valid_until": "not expired; 5/10/20 years after the start, or 长期 from 46",
    "applicant.name": "Latin letters only with a foreign document; the registry's name",
    "applicant.nationality": "a resident ID card holder is Chinese",
    "access_authorised_at": "recent and not in the future",
    "consents.access_authorised_at": "recent and not in the future",
    "consents.identity_verified_in_person_at": "required for 本人申领; not in the future",
    # 代办申领 (applied_by agent): which checks and which agent go with which way.
    "consents.agent_id_card_checked_at": "required for 代办申领",
    "consents.applicant_id_card_checked_at": "required for 代办申领",
    "agent": "present exactly when applied_by is agent",
    "agent.name": "Latin letters only with a foreign document",
    "agent.id_number": "by document type; 18 or over on the day; not the applicant's",
    "consents.disclaimer_agreed_at": "not in the future",
    "consents.declaration_agreed_at": "not in the future",
    "card_issuer": "the bank that pays the pension (the registry)",
    "pickup.method": "the methods the registry allows this person",
    "pickup.mail": "required for bank mail",
    "photos.card_photo": "uploaded, and its bytes to the card spec",
    "photos.id_front": "uploaded, and readable",
    "photos.id_back": "uploaded, and readable",
}


@schemathesis.check
def refusals_are_business_rules(ctx, response, case):
    meta = getattr(case, "meta", None)
    if meta is None or not meta.generation.mode.is_positive:
        return None
    if response.status_code != 422:
        return None
    try:
        body = json.loads(response.content)
    except ValueError:
        raise AssertionError("a 422 without a JSON Error body")
    code = body.get("code")
    if code in BUSINESS_CODES:
        return None
    if code != "validation_failed":
        raise AssertionError(f"valid data refused with 422 {code!r}: {body.get('message')}")
    loose = [
        e.get("field")
        for e in body.get("errors", [])
        if e.get("field") not in BEYOND_SCHEMA
    ]
    if loose or not body.get("errors"):
        raise AssertionError(
            "the contract is looser than the server for "
            + (", ".join(map(str, loose)) or "an unnamed field")
            + f": {body.get('message')}"
        )
    return None
